package dev.icecache.bench.fidelity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.tree.Projection;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link AttentionRecall} against a brute force written differently (exp of every score, top-k by
 * sorting all positions) on seeded random keys and queries driven through a real PagedKvCache.
 */
class AttentionRecallTest {

    private static final CacheShape SHAPE = new CacheShape(3, 4, 2, 8, 260);
    private static final int DENSE = 1;

    @ParameterizedTest(name = "{0}@{1} seed={2}")
    @CsvSource({
            "STREAMING, 64, 1", "QUEST, 64, 2", "ORACLE, 128, 3", "ICECACHE, 64, 4", "ICECACHE_REUSE, 128, 5",
            "ICECACHE, 256, 6", "FULL, 64, 7"})
    void shouldEqualBruteForceRecallOverEverySparseAttend(Policy policy, int budget, long seed) {
        checkAgainstBruteForce(policy, budget, seed, 1);
    }

    /** A prefill block reports its positions one by one; the recorder focuses each position's query. */
    @ParameterizedTest(name = "{0}@{1} seed={2} block={3}")
    @CsvSource({"QUEST, 64, 2, 16", "ICECACHE, 64, 4, 32", "ICECACHE_REUSE, 128, 5, 7", "FULL, 64, 7, 32"})
    void shouldEqualBruteForceRecallWhenPrefillingBlocks(Policy policy, int budget, long seed, int block) {
        checkAgainstBruteForce(policy, budget, seed, block);
    }

    private void checkAgainstBruteForce(Policy policy, int budget, long seed, int block) {
        CacheConfig config = CacheConfig.of(policy, budget).withDenseLayers(DENSE);
        KeyRecordingCache recorder = new KeyRecordingCache(new PagedKvCache(SHAPE, config,
                new InMemoryPageStore(PageLayout.of(SHAPE.headDim()), config.pageFormat()),
                new Projection(SHAPE.headDim(), new SplittableRandom(seed))));
        int topK = 16;
        AttentionRecall recall = new AttentionRecall(recorder, config, topK);
        BruteForce expected = new BruteForce(topK, budget);
        ((PagedKvCache) recorder.delegate()).observeAttendedPositions((layer, kvHead, position, positions, count) -> {
            expected.add(layer, kvHead, position, Arrays.copyOf(positions, count));
            recall.accept(layer, kvHead, position, positions, count);
        });
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = SHAPE.maxTokens();
        float[] out = new float[SHAPE.qDim()];
        int qDim = SHAPE.qDim();
        for (int start = 0; start < n; start += block) {
            int len = Math.min(block, n - start);
            for (int l = 0; l < SHAPE.nLayers(); l++) {
                float[] qs = new float[len * qDim];
                for (int p = start; p < start + len; p++) {
                    float[] k = gaussian(rnd, SHAPE.kvDim(), 1.5);
                    float[] v = gaussian(rnd, SHAPE.kvDim(), 1.0);
                    float[] q = gaussian(rnd, qDim, 1.5);
                    expected.keys[l][p] = k;
                    expected.queries[l][p] = q;
                    recorder.append(l, p, k, 0, v, 0);
                    System.arraycopy(q, 0, qs, (p - start) * qDim, qDim);
                }
                if (block == 1) {
                    recorder.attend(l, start, qs, 0, out, 0);
                } else {
                    recorder.attendBlock(l, start, len, qs, 0, new float[len * qDim], 0);
                }
            }
        }
        String what = policy + "@" + budget + " seed=" + seed + " block=" + block;
        long samples = (long) (SHAPE.nLayers() - DENSE) * SHAPE.nHeads() * n;
        assertEquals(samples, recall.all().samples(), what);
        assertEquals(expected.mass / samples, recall.all().attentionRecall(), 1e-9, what);
        assertEquals(expected.topK / samples, recall.all().topKRecall(), 1e-12, what);
        long over = (long) (SHAPE.nLayers() - DENSE) * SHAPE.nHeads() * (n - budget);
        assertEquals(over, recall.overBudget().samples(), what);
        assertEquals(expected.massOver / over, recall.overBudget().attentionRecall(), 1e-9, what);
        assertEquals(expected.topKOver / over, recall.overBudget().topKRecall(), 1e-12, what);
        if (policy == Policy.FULL) {
            assertEquals(1.0, recall.all().attentionRecall(), 1e-12, what);
        } else {
            assertTrue(recall.overBudget().attentionRecall() < 1.0, what);
        }
        if (policy == Policy.STREAMING) {
            assertEquals(streamingRetrievedRows(config, n), recall.all().retrievedRows(), what);
        } else {
            assertTrue(recall.all().retrievedRows() > 0, what);
        }
    }

    /**
     * StreamingLLM retrieves the pages that most recently left the window: at position p the
     * window is the positional page of p-1 (one page under 128 tokens), and before it come up to
     * retrievedPages full pages; summed over every sparse (layer, KV head) attend.
     */
    private static long streamingRetrievedRows(CacheConfig config, int n) {
        assertEquals(1, config.windowPages(), "this count assumes a one-page window");
        int sink = config.sinkTokens();
        long rows = 0;
        for (int p = 0; p < n; p++) {
            int newest = p - 1;
            int indexed = newest < sink ? 0 : (newest - sink) / 16 * 16;
            rows += Math.min(config.retrievedPages() * 16, indexed);
        }
        return rows * (SHAPE.nLayers() - DENSE) * SHAPE.nKvHeads();
    }

    private static float[] gaussian(SplittableRandom rnd, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * scale);
        }
        return x;
    }

    /** Sums of per-(query head, position) recall, computed from the test's own copies of keys and queries. */
    private static final class BruteForce {
        final float[][][] keys = new float[SHAPE.nLayers()][SHAPE.maxTokens()][];
        final float[][][] queries = new float[SHAPE.nLayers()][SHAPE.maxTokens()][];
        final int topKCount;
        final int budget;
        double mass;
        double topK;
        double massOver;
        double topKOver;

        BruteForce(int topK, int budget) {
            this.topKCount = topK;
            this.budget = budget;
        }

        void add(int layer, int kvHead, int position, int[] attended) {
            int hd = SHAPE.headDim();
            int group = SHAPE.groupSize();
            for (int g = 0; g < group; g++) {
                int head = kvHead * group + g;
                double[] s = new double[position + 1];
                for (int i = 0; i <= position; i++) {
                    double dot = 0;
                    for (int d = 0; d < hd; d++) {
                        dot += (double) queries[layer][position][head * hd + d] * keys[layer][i][kvHead * hd + d];
                    }
                    s[i] = dot / Math.sqrt(hd);
                }
                double total = 0;
                double covered = 0;
                for (int i = 0; i <= position; i++) {
                    total += Math.exp(s[i]);
                    covered += Arrays.binarySearch(attended, i) >= 0 ? Math.exp(s[i]) : 0;
                }
                Integer[] order = new Integer[position + 1];
                for (int i = 0; i <= position; i++) {
                    order[i] = i;
                }
                Arrays.sort(order, (a, b) -> Double.compare(s[b], s[a]));
                int k = Math.min(topKCount, position + 1);
                int hits = 0;
                for (int r = 0; r < k; r++) {
                    hits += Arrays.binarySearch(attended, order[r]) >= 0 ? 1 : 0;
                }
                mass += covered / total;
                topK += hits / (double) k;
                if (position + 1 > budget) {
                    massOver += covered / total;
                    topKOver += hits / (double) k;
                }
            }
        }
    }
}
