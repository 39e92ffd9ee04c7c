package dev.icecache.kvcache.select;

import static dev.icecache.kvcache.select.SelectorFixture.asList;
import static dev.icecache.kvcache.select.SelectorFixture.gaussian;
import static dev.icecache.kvcache.select.SelectorFixture.mergeRankByRank;
import static dev.icecache.kvcache.select.SelectorFixture.positions;
import static dev.icecache.kvcache.select.SelectorFixture.topIds;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.kvcache.tree.DciTree;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PositionalSelectorsTest {

    private static final int D = 8;
    private static final CacheShape SHAPE = new CacheShape(1, 3, 1, D, 4096);

    private static SelectorSpec spec() {
        return SelectorFixture.spec(SHAPE, 0, DciParams.defaults(), 0);
    }

    @Test
    void shouldRankQuestPagesByTheDigestBoundLikeBruteForce() {
        for (long seed = 1; seed <= 10; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int pages = 5 + rnd.nextInt(60);
            int n = pages * 16;
            float[] keys = gaussian(n * D, rnd);
            QuestSelector quest = new QuestSelector(spec());
            // in two batches, as evictions come
            int half = (pages / 2) * 16;
            quest.add(0, 0, keys, 0, positions(n), 0, half);
            quest.add(0, 0, keys, half * D, positions(n), half, n - half);
            float[] q = gaussian(3 * D, rnd);
            int k = 1 + rnd.nextInt(14);
            List<List<Integer>> perHead = new ArrayList<>();
            for (int h = 0; h < 3; h++) {
                float[] scores = new float[pages];
                for (int p = 0; p < pages; p++) {
                    float s = 0f;
                    for (int d = 0; d < D; d++) {
                        float lo = Float.POSITIVE_INFINITY;
                        float hi = Float.NEGATIVE_INFINITY;
                        for (int r = 0; r < 16; r++) {
                            lo = Math.min(lo, keys[(p * 16 + r) * D + d]);
                            hi = Math.max(hi, keys[(p * 16 + r) * D + d]);
                        }
                        float qi = q[h * D + d];
                        s += Math.max(qi * lo, qi * hi);
                    }
                    scores[p] = s;
                }
                perHead.add(topIds(scores, k));
            }
            int[] out = new int[k];
            int got = quest.select(0, 0, 0, q, 0, 3, k, out);
            assertEquals(mergeRankByRank(perHead, k), asList(out, got), "seed=" + seed);
        }
    }

    @Test
    void shouldRankOraclePagesByTheirBestTokenAndTokensExactly() {
        for (long seed = 1; seed <= 10; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int pages = 3 + rnd.nextInt(50);
            int n = pages * 16;
            float[] keys = gaussian(n * D, rnd);
            OracleSelector oracle = new OracleSelector(spec());
            oracle.add(0, 0, keys, 0, positions(n), 0, n);
            float[] q = gaussian(3 * D, rnd);
            int k = 1 + rnd.nextInt(14);
            List<List<Integer>> pageLists = new ArrayList<>();
            List<List<Integer>> tokenLists = new ArrayList<>();
            for (int h = 0; h < 3; h++) {
                float[] tok = new float[n];
                float[] page = new float[pages];
                java.util.Arrays.fill(page, Float.NEGATIVE_INFINITY);
                for (int t = 0; t < n; t++) {
                    double s = 0;
                    for (int d = 0; d < D; d++) {
                        s += (double) q[h * D + d] * keys[t * D + d];
                    }
                    tok[t] = SelectorFixture.dot(q, h * D, keys, t * D, D);
                    assertEquals(s, tok[t], 1e-4, "float dot far from double dot");
                    page[t / 16] = Math.max(page[t / 16], tok[t]);
                }
                pageLists.add(topIds(page, k));
                List<Integer> best = new ArrayList<>();
                for (int t : topIds(tok, 16 * k)) {
                    best.add(t + SelectorFixture.SINK);
                }
                tokenLists.add(best);
            }
            int[] out = new int[16 * k];
            int got = oracle.select(0, 0, 0, q, 0, 3, k, out);
            assertEquals(mergeRankByRank(pageLists, k), asList(out, got), "seed=" + seed + " pages");
            got = oracle.selectTokens(0, 0, q, 0, 3, 16 * k, out);
            assertEquals(mergeRankByRank(tokenLists, 16 * k), asList(out, got), "seed=" + seed + " tokens");
        }
    }

    @Test
    void shouldSelectTheMostRecentPagesForStreamingAndEveryPageForFull() {
        SplittableRandom rnd = new SplittableRandom(3);
        float[] keys = gaussian(10 * 16 * D, rnd);
        StreamingSelector streaming = new StreamingSelector(spec());
        FullSelector full = new FullSelector(spec());
        streaming.add(0, 0, keys, 0, positions(160), 0, 160);
        full.add(0, 0, keys, 0, positions(160), 0, 160);
        int[] out = new int[20];
        assertEquals(4, streaming.select(0, 0, 500, keys, 0, 3, 4, out));
        assertArrayEquals(new int[] {6, 7, 8, 9}, java.util.Arrays.copyOf(out, 4));
        assertEquals(10, full.select(0, 0, 500, keys, 0, 3, 20, out));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, java.util.Arrays.copyOf(out, 10));
        int[] rows = new int[16];
        assertEquals(16, full.pageTokens(0, 0, 2, rows));
        assertEquals(SelectorFixture.SINK + 32, rows[0]);
        assertEquals(SelectorFixture.SINK + 47, rows[15]);
    }

    @Test
    void shouldLogOneMovePerNewTokenIntoItsPositionalPage() {
        QuestSelector quest = new QuestSelector(spec());
        quest.add(0, 0, new float[32 * D], 0, positions(32), 0, 32);
        assertEquals(32, quest.pendingMoves(0, 0));
        int[] tok = new int[32];
        int[] fp = new int[32];
        int[] fs = new int[32];
        int[] tp = new int[32];
        int[] ts = new int[32];
        quest.drainMoves(0, 0, tok, fp, fs, tp, ts);
        assertEquals(SelectorFixture.SINK + 17, tok[17]);
        assertEquals(DciTree.NO_PAGE, fp[17]);
        assertEquals(1, tp[17]);
        assertEquals(1, ts[17]);
        assertEquals(0, quest.pendingMoves(0, 0));
    }

    @Test
    void shouldRejectTokensThatAreNotTheNextWholePage() {
        QuestSelector quest = new QuestSelector(spec());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> quest.add(0, 0, new float[8 * D], 0, positions(8), 0, 8));
        assertEquals("positional pages take whole pages: n=8 is not a multiple of 16", e.getMessage());
        int[] wrong = positions(16);
        wrong[3]++;
        e = assertThrows(IllegalArgumentException.class, () -> quest.add(0, 0, new float[16 * D], 0, wrong, 0, 16));
        assertEquals("token=36 out of order for a positional page: expected 35", e.getMessage());
    }
}
