package dev.icecache.kvcache.select;

import static dev.icecache.kvcache.select.SelectorFixture.asList;
import static dev.icecache.kvcache.select.SelectorFixture.gaussian;
import static dev.icecache.kvcache.select.SelectorFixture.positions;
import static dev.icecache.kvcache.select.SelectorFixture.topIds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.kvcache.tree.RankingReference;
import dev.icecache.kvcache.tree.PageScore;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IceCacheSelectorTest {

    private static final int D = 16;

    /**
     * Best selector pages (tree pages and recent pages alike) of one query head under
     * {@code score}, brute force over the selector's page membership: every row scored, ranked
     * best first, ties to the smaller id.
     */
    private static List<Integer> bruteForcePages(IceCacheSelector sel, PageScore score, float[] keys, float[] q,
                                                 int qOff, float[] pageScores) {
        int limit = sel.pageIdLimit(0, 1);
        float[] page = new float[limit];
        java.util.Arrays.fill(page, Float.NEGATIVE_INFINITY);
        int[] rows = new int[16];
        float[] scores = new float[16];
        for (int p = 0; p < limit; p++) {
            int n = sel.pageSize(0, 1, p);
            if (n == 0) {
                continue;
            }
            sel.pageTokens(0, 1, p, rows);
            float best = Float.NEGATIVE_INFINITY;
            for (int s = 0; s < n; s++) {
                int kOff = (rows[s] - SelectorFixture.SINK) * D;
                // recent pages keep their keys in float; tree pages rank over the compact (int8) keys
                scores[s] = p < sel.treePageOffset(0, 1) ? RankingReference.dot(q, qOff, keys,
                        kOff, D) : SelectorFixture.rankingDot(q, qOff, keys, kOff, D);
                best = Math.max(best, scores[s]);
            }
            page[p] = score.of(scores, n, best, D);
        }
        System.arraycopy(page, 0, pageScores, 0, limit);
        List<Integer> live = new ArrayList<>();
        for (int id : topIds(page, page.length)) {
            if (page[id] != Float.NEGATIVE_INFINITY) {
                live.add(id);
            }
        }
        return live;
    }

    /** Rank-by-rank merge taking at most {@code quota} ids below {@code limitedBelow}, first k distinct. */
    private static List<Integer> mergeWithQuota(List<List<Integer>> perHead, int k, int limitedBelow, int quota) {
        LinkedHashSet<Integer> out = new LinkedHashSet<>();
        int limited = 0;
        int longest = perHead.stream().mapToInt(List::size).max().orElse(0);
        for (int rank = 0; rank < longest && out.size() < k; rank++) {
            for (List<Integer> list : perHead) {
                if (rank < list.size() && out.size() < k && !out.contains(list.get(rank))) {
                    int id = list.get(rank);
                    if (id >= limitedBelow || limited < quota) {
                        out.add(id);
                        limited += id < limitedBelow ? 1 : 0;
                    }
                }
            }
        }
        return new ArrayList<>(out);
    }

    /**
     * The attention-mass selection written out: per head the candidates are its k best tree pages
     * and every recent page, each weighted by its share of the head's mass over them; pages by the
     * group's summed share, at most {@code quota} recent pages.
     */
    private static List<Integer> groupMass(List<List<Integer>> perHead, List<float[]> scores, int k, int recentIds,
                                           int quota) {
        java.util.LinkedHashMap<Integer, Double> total = new java.util.LinkedHashMap<>();
        for (int g = 0; g < perHead.size(); g++) {
            List<Integer> candidates = new ArrayList<>();
            for (int id : perHead.get(g)) {
                if (id < recentIds || candidates.stream().filter(c -> c >= recentIds).count() < k) {
                    candidates.add(id);
                }
            }
            float[] s = scores.get(g);
            double max = candidates.stream().mapToDouble(id -> s[id]).max().orElse(0);
            double z = candidates.stream().mapToDouble(id -> Math.exp((s[id] - max) / Math.sqrt(D))).sum();
            for (int id : candidates) {
                total.merge(id, Math.exp((s[id] - max) / Math.sqrt(D)) / z, Double::sum);
            }
        }
        List<Integer> order = new ArrayList<>(total.keySet());
        order.sort((a, b) -> Double.compare(total.get(b), total.get(a))); // stable: ties keep first-seen order
        List<Integer> out = new ArrayList<>();
        int recent = 0;
        for (int id : order) {
            if (out.size() < k && (id >= recentIds || recent < quota)) {
                out.add(id);
                recent += id < recentIds ? 1 : 0;
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0}, {1} recent pages")
    @CsvSource({"BEST_KEY, 0", "ATTENTION_MASS, 0", "BEST_KEY, 2", "ATTENTION_MASS, 1", "ATTENTION_MASS, 3"})
    void shouldEqualBruteForceBestPagesWithExhaustiveSearch(PageScore score, int recentPages) {
        CacheShape shape = new CacheShape(1, 4, 2, D, 1 << 16);
        for (long seed = 1; seed <= 6; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            DciParams params = DciParams.paper().withExhaustiveSearch().withPageScore(score).withRecentPages(recentPages);
            IceCacheSelector sel = new IceCacheSelector(SelectorFixture.spec(shape, 0, params, 0));
            int n = 16 * (20 + rnd.nextInt(200));
            float[] keys = gaussian(n * D, rnd);
            int[] tok = positions(n);
            // a bulk build, then streaming batches of one page, as the window evicts them
            int bulk = 16 * (n / 32);
            sel.add(0, 1, keys, 0, tok, 0, bulk);
            for (int i = bulk; i < n; i += 16) {
                sel.add(0, 1, keys, i * D, tok, i, 16);
            }
            int off = sel.treePageOffset(0, 1);
            assertEquals(recentPages == 0 ? 0 : recentPages + 1, off);
            for (int trial = 0; trial < 5; trial++) {
                float[] q = gaussian(shape.qDim(), rnd);
                int k = 1 + rnd.nextInt(16);
                List<List<Integer>> perHead = new ArrayList<>();
                List<float[]> scores = new ArrayList<>();
                for (int g = 0; g < 2; g++) {
                    scores.add(new float[sel.pageIdLimit(0, 1)]);
                    perHead.add(bruteForcePages(sel, score, keys, q, (2 + g) * D, scores.get(g)));
                }
                int[] out = new int[k];
                int got = sel.select(0, 1, 1000, q, 2 * D, 2, k, out);
                String what = "seed=" + seed + " trial=" + trial + " k=" + k;
                List<Integer> expected = score == PageScore.BEST_KEY ? mergeWithQuota(perHead, k, off, k / 2)
                        : groupMass(perHead, scores, k, off, k / 2);
                assertEquals(expected, asList(out, got), what);
                assertTrue(expected.stream().filter(id -> id < off).count() <= k / 2, what);
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
