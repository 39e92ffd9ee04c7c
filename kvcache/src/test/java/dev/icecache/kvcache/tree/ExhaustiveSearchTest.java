package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * icecache.md "Sanity check": with fieldOfView = n and a full scan, the selection equals the exact
 * best pages under "page score = best token score" (ties to the lower page id).
 */
class ExhaustiveSearchTest {

    @ParameterizedTest(name = "seed={0} n={1} d={2} batch={3} clustered={4}")
    @CsvSource({
            "1, 1, 8, 0, false",
            "2, 15, 8, 0, false",
            "3, 17, 8, 0, true",
            "4, 100, 8, 0, false",
            "5, 777, 16, 0, true",
            "6, 3000, 8, 0, true",
            "7, 2500, 16, 7, false",
            "8, 2500, 16, 16, true",
            "9, 1200, 8, 1, true",
            "10, 4000, 32, 64, true",
    })
    void shouldEqualBruteForceWhenSearchIsExhaustive(long seed, int n, int d, int batch, boolean clustered) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] keys = clustered ? TreeKeys.clustered(n, d, rnd) : TreeKeys.gaussian(n, d, rnd);
        int[] tokens = TreeKeys.positions(n, 32);
        DciTree tree = new DciTree(d, DciParams.defaults().withExhaustiveSearch(), new Projection(d, rnd.split()));
        int step = batch == 0 ? n : batch;
        for (int i = 0; i < n; i += step) {
            tree.add(keys, i * d, tokens, i, Math.min(step, n - i));
        }
        tree.checkInvariants();
        assertSearchesMatchBruteForce(tree, keys, 32, n, d, rnd, "seed=" + seed);
    }

    @ParameterizedTest(name = "seed={0}")
    @CsvSource({"11", "12", "13"})
    void shouldEqualBruteForceWhenManyKeysTieOnScore(long seed) {
        // keys drawn from 3 values per coordinate: many exact score ties across pages
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = 900;
        int d = 4;
        float[] keys = new float[n * d];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = rnd.nextInt(3) - 1;
        }
        DciTree tree = new DciTree(d, DciParams.defaults().withExhaustiveSearch(), new Projection(d, rnd.split()));
        tree.add(keys, 0, TreeKeys.positions(n, 0), 0, 450);
        tree.add(keys, 450 * d, TreeKeys.positions(n, 0), 450, 450);
        assertSearchesMatchBruteForce(tree, keys, 0, n, d, rnd, "seed=" + seed);
    }

    @ParameterizedTest(name = "seed={0} n={1}")
    @CsvSource({"21, 300", "22, 1024"})
    void shouldSearchSmallTreesExhaustivelyWithDefaults(long seed, int n) {
        // DciParams.defaults().exactSearchBelow() = 1024 [ours]: small trees need no approximation
        SplittableRandom rnd = new SplittableRandom(seed);
        int d = 16;
        float[] keys = TreeKeys.clustered(n, d, rnd);
        DciTree tree = new DciTree(d, DciParams.defaults(), new Projection(d, rnd.split()));
        for (int i = 0; i < n; i += 16) {
            tree.add(keys, i * d, TreeKeys.positions(n, 32), i, Math.min(16, n - i));
        }
        assertSearchesMatchBruteForce(tree, keys, 32, n, d, rnd, "seed=" + seed);
    }

    static void assertSearchesMatchBruteForce(DciTree tree, float[] keys, int firstToken, int n, int d,
                                              SplittableRandom rnd, String what) {
        for (int maxPages : new int[] {1, 4, 12, 1000}) {
            for (int t = 0; t < 10; t++) {
                float[] q = t % 2 == 0 ? TreeKeys.gaussian(1, d, rnd) : TreeKeys.queryNear(keys, n, d, rnd);
                int[] pages = new int[maxPages];
                float[] scores = new float[maxPages];
                int got = tree.search(q, 0, maxPages, pages, scores, null);
                int[] expPages = new int[maxPages];
                float[] expScores = new float[maxPages];
                int exp = BruteForce.bestPages(tree, keys, firstToken, d, q, maxPages, expPages, expScores);
                String msg = what + " maxPages=" + maxPages + " query=" + t;
                assertEquals(exp, got, msg);
                assertArrayEquals(Arrays.copyOf(expPages, exp), Arrays.copyOf(pages, got), msg);
                assertArrayEquals(Arrays.copyOf(expScores, exp), Arrays.copyOf(scores, got), msg);
            }
        }
    }
}
