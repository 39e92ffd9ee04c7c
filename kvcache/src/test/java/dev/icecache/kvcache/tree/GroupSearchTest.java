package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link DciTree#searchGroup}: each head's pages and scores equal its own {@link DciTree#search}
 * bit for bit (approximate and exhaustive searches, trees of one level and of several), and the
 * dots counted equal the per-head searches' total.
 */
class GroupSearchTest {

    @ParameterizedTest(name = "seed={0} n={1} d={2} heads={3} maxPages={4} exhaustive={5}")
    @CsvSource({
            "1, 300, 16, 4, 8, false",
            "2, 5000, 16, 4, 16, false",
            "3, 20000, 32, 4, 32, false",
            "4, 12000, 16, 2, 64, false",
            "5, 3000, 8, 3, 10, true",
            "6, 9000, 16, 1, 16, false",
            "7, 20000, 16, 8, 4, false",
    })
    void shouldGiveEveryHeadTheResultOfItsOwnSearch(long seed, int n, int d, int heads, int maxPages,
                                                   boolean exhaustive) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] keys = TreeKeys.clustered(n, d, rnd);
        DciParams params = exhaustive ? DciParams.defaults().withExhaustiveSearch() : DciParams.defaults();
        DciTree tree = new DciTree(d, params, new Projection(d, rnd.split()));
        int[] tokens = TreeKeys.positions(n, 4);
        for (int i = 0; i < n; i += 512) {
            tree.add(keys, i * d, tokens, i, Math.min(512, n - i));
        }
        int[] pages = new int[heads * maxPages];
        float[] scores = new float[heads * maxPages];
        int[] counts = new int[heads];
        int[] one = new int[maxPages];
        float[] oneScores = new float[maxPages];
        for (int trial = 0; trial < 20; trial++) {
            float[] q = new float[heads * d + 3];
            for (int h = 0; h < heads; h++) {
                // heads of a group look at related keys: near one key, or anywhere
                float[] near = TreeKeys.queryNear(keys, n, d, rnd);
                System.arraycopy(near, 0, q, 3 + h * d, d);
            }
            SearchStats group = new SearchStats();
            tree.searchGroup(q, 3, heads, maxPages, pages, scores, counts, group);
            SearchStats single = new SearchStats();
            for (int h = 0; h < heads; h++) {
                int c = tree.search(q, 3 + h * d, maxPages, one, oneScores, single);
                String msg = "trial=" + trial + " head=" + h;
                assertEquals(c, counts[h], msg);
                for (int i = 0; i < c; i++) {
                    assertEquals(one[i], pages[h * maxPages + i], msg + " rank=" + i);
                    assertEquals(Float.floatToRawIntBits(oneScores[i]),
                            Float.floatToRawIntBits(scores[h * maxPages + i]), msg + " rank=" + i);
                }
            }
            assertEquals(single.exactDots, group.exactDots, "dots of trial " + trial);
            assertEquals(single.queries, group.queries);
        }
        assertTrue(tree.size() == n);
    }
}
