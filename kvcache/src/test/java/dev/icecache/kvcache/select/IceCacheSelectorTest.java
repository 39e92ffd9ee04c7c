package dev.icecache.kvcache.select;

import static dev.icecache.kvcache.select.SelectorFixture.asList;
import static dev.icecache.kvcache.select.SelectorFixture.gaussian;
import static dev.icecache.kvcache.select.SelectorFixture.mergeRankByRank;
import static dev.icecache.kvcache.select.SelectorFixture.positions;
import static dev.icecache.kvcache.select.SelectorFixture.topIds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.kvcache.tree.DciTree;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class IceCacheSelectorTest {

    private static final int D = 16;

    /** Best pages by "page score = best token score", brute force over the tree's page membership. */
    private static List<Integer> bruteForcePages(DciTree tree, float[] keys, float[] q, int qOff, int n, int k) {
        float[] page = new float[tree.pageIdLimit()];
        java.util.Arrays.fill(page, Float.NEGATIVE_INFINITY);
        for (int t = 0; t < n; t++) {
            int p = tree.pageOf(SelectorFixture.SINK + t);
            page[p] = Math.max(page[p], SelectorFixture.rankingDot(q, qOff, keys, t * D, D));
        }
        List<Integer> live = new ArrayList<>();
        for (int id : topIds(page, page.length)) {
            if (page[id] != Float.NEGATIVE_INFINITY) {
                live.add(id);
            }
        }
        return live.subList(0, Math.min(k, live.size()));
    }

    @Test
    void shouldEqualBruteForceBestPagesWithExhaustiveSearch() {
        CacheShape shape = new CacheShape(1, 4, 2, D, 1 << 16);
        for (long seed = 1; seed <= 6; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            IceCacheSelector sel = new IceCacheSelector(
                    SelectorFixture.spec(shape, 0, DciParams.defaults().withExhaustiveSearch(), 0));
            int n = 16 * (20 + rnd.nextInt(200));
            float[] keys = gaussian(n * D, rnd);
            int[] tok = positions(n);
            // a bulk build, then streaming batches of one page, as the window evicts them
            int bulk = 16 * (n / 32);
            sel.add(0, 1, keys, 0, tok, 0, bulk);
            for (int i = bulk; i < n; i += 16) {
                sel.add(0, 1, keys, i * D, tok, i, 16);
            }
            DciTree tree = sel.tree(0, 1);
            for (int trial = 0; trial < 5; trial++) {
                float[] q = gaussian(shape.qDim(), rnd);
                int k = 1 + rnd.nextInt(16);
                List<List<Integer>> perHead = new ArrayList<>();
                for (int g = 0; g < 2; g++) {
                    perHead.add(bruteForcePages(tree, keys, q, (2 + g) * D, n, k));
                }
                int[] out = new int[k];
                int got = sel.select(0, 1, 1000, q, 2 * D, 2, k, out);
                assertEquals(mergeRankByRank(perHead, k), asList(out, got), "seed=" + seed + " trial=" + trial);
            }
            assertTrue(sel.exactDots() > 0);
        }
    }

    @Test
    void shouldServeTheNextTwoLayersFromOneLayersSelectionInIceCacheR() {
        CacheShape shape = new CacheShape(4, 2, 1, D, 1 << 16);
        SplittableRandom rnd = new SplittableRandom(77);
        IceCacheSelector sel = new IceCacheSelector(SelectorFixture.spec(shape, 1, DciParams.defaults(), 2));
        int n = 16 * 60;
        int[] tok = positions(n);
        float[][] keys = new float[4][];
        for (int l = 1; l < 4; l++) {
            keys[l] = gaussian(n * D, rnd);
            sel.add(l, 0, keys[l], 0, tok, 0, n);
        }
        float[] q = gaussian(2 * D, rnd);
        int k = 6;
        int[] first = new int[k];
        int nFirst = sel.select(1, 0, 999, q, 0, 2, k, first);
        long dots = sel.exactDots();
        for (int l = 2; l <= 3; l++) {
            // the pages of layer l that hold layer 1's selected tokens, in that order
            LinkedHashSet<Integer> expected = new LinkedHashSet<>();
            int[] rows = new int[16];
            for (int i = 0; i < nFirst; i++) {
                int c = sel.tree(1, 0).pageTokens(first[i], rows);
                for (int r = 0; r < c; r++) {
                    if (expected.size() < k) {
                        expected.add(sel.tree(l, 0).pageOf(rows[r]));
                    }
                }
            }
            int[] out = new int[k];
            int got = sel.select(l, 0, 999, q, 0, 2, k, out);
            assertEquals(new ArrayList<>(expected), asList(out, got), "layer " + l);
        }
        assertEquals(dots, sel.exactDots(), "reuse layers must not search");
        // another position: layer 2 searches on its own
        sel.select(2, 0, 1000, q, 0, 2, k, new int[k]);
        assertTrue(sel.exactDots() > dots);
    }
}
