package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.HeadAttention;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * [ours] Streaming growth must not cost quality: top-k recall of a tree grown in 16-token batches
 * against the same tokens bulk-built at once, with default search parameters.
 */
class StreamingQualityTest {

    private static final int D = 32;
    private static final int K = 64;
    private static final int MAX_PAGES = 12;
    private static final int QUERIES = 300;

    @Test
    void shouldKeepRecallWhenBuiltIncrementally() {
        long seed = 20_000;
        int n = 20_000;
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] keys = TreeKeys.clustered(n, D, rnd);
        int[] tokens = TreeKeys.positions(n, 0);
        Projection projection = new Projection(D, new SplittableRandom(seed + 1));
        DciTree bulk = new DciTree(D, DciParams.defaults(), projection);
        bulk.add(keys, 0, tokens, 0, n);
        DciTree stream = new DciTree(D, DciParams.defaults(), projection);
        long moved = 0;
        int[] a = new int[0];
        for (int i = 0; i < n; i += 16) {
            stream.add(keys, i * D, tokens, i, Math.min(16, n - i));
            int m = stream.pendingMoves();
            if (a.length < m) {
                a = new int[m];
            }
            stream.drainMoves(a, a, a, a, a);
            moved += m;
        }
        System.out.printf("incremental build: %.2f row moves per token indexed (new tokens included)%n", moved / (double) n);
        stream.checkInvariants();
        bulk.checkInvariants();
        float[][] queries = new float[QUERIES][];
        SplittableRandom qr = new SplittableRandom(seed + 2);
        for (int i = 0; i < QUERIES; i++) {
            queries[i] = TreeKeys.queryNear(keys, n, D, qr);
        }
        double bulkRecall = meanRecall(bulk, keys, n, queries);
        double streamRecall = meanRecall(stream, keys, n, queries);
        System.out.printf("top-%d recall at %d pages over %d clustered keys (d=%d): bulk=%.4f incremental=%.4f "
                        + "pages bulk=%d incremental=%d%n", K, MAX_PAGES, n, D, bulkRecall, streamRecall,
                livePages(bulk), livePages(stream));
        assertTrue(streamRecall >= bulkRecall - 0.02, String.format(
                "seed=%d incremental recall=%.4f fell more than 0.02 below bulk recall=%.4f", seed, streamRecall, bulkRecall));
    }

    static double meanRecall(DciTree tree, float[] keys, int n, float[][] queries) {
        int[] pages = new int[MAX_PAGES];
        float[] scores = new float[MAX_PAGES];
        float[] all = new float[n];
        double sum = 0;
        for (float[] q : queries) {
            for (int t = 0; t < n; t++) {
                all[t] = HeadAttention.dot(q, 0, keys, t * D, D);
            }
            float[] sorted = all.clone();
            java.util.Arrays.sort(sorted);
            float kth = sorted[n - K];
            int got = tree.search(q, 0, MAX_PAGES, pages, scores, null);
            int hit = 0;
            int total = 0;
            for (int t = 0; t < n; t++) {
                if (all[t] >= kth) {
                    total++;
                    int p = tree.pageOf(t);
                    for (int i = 0; i < got; i++) {
                        if (pages[i] == p) {
                            hit++;
                            break;
                        }
                    }
                }
            }
            sum += (double) hit / total;
        }
        return sum / queries.length;
    }

    static int livePages(DciTree tree) {
        int live = 0;
        for (int p = 0; p < tree.pageIdLimit(); p++) {
            live += tree.pageSize(p) > 0 ? 1 : 0;
        }
        return live;
    }
}
