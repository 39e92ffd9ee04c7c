package dev.icecache.bench.fidelity;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.metrics.AttendedPositions;
import dev.icecache.kvcache.policy.CacheConfig;

/**
 * Scores what a sparse attend covered against the exact attention of the same query
 * ({@link RecallTotals}), from a {@link KeyRecordingCache}'s shadow keys and the positions the
 * policy cache reports through its {@link AttendedPositions} hook. Register it with
 * {@code PagedKvCache.observeAttendedPositions}; the cache calls it during the attend the
 * recorder is forwarding, so the recorder's query is the one attended.
 *
 * <pre>
 *   per KV head h of a sparse layer, position p, each query head g of h's group:
 *     s_i = q_g . k_i / sqrt(headDim)          i = 0..p, in double
 *     attention recall = sum_{i attended} e^{s_i} / sum_i e^{s_i}
 *     top-k recall     = |attended among the k best s_i| / min(k, p+1)   (ties at the k-th score
 *                        count as attended when an attended one holds them)
 *   retrieved rows = attended positions in the index region [sinkTokens, windowStart), i.e. rows of
 *   pages the policy selected (not sink, window or the query itself); useful = in some g's top-k
 * </pre>
 *
 * windowStart follows PagedKvCache's budget composition when decoding one position at a time:
 * the window holds the {@code windowPages} newest positional pages of the committed positions
 * 0..p-1. Samples of positions p with p + 1 &gt; budget also go to {@link #overBudget()}.
 */
public final class AttentionRecall implements AttendedPositions {

    private final KeyRecordingCache recorder;
    private final CacheShape shape;
    private final int topK;
    private final int budgetTokens;
    private final int sinkTokens;
    private final int windowPages;
    private final RecallTotals all = new RecallTotals();
    private final RecallTotals overBudget = new RecallTotals();
    private final double[] scores;    // [position] of the current query head
    private final double[] best;      // [topK] best scores, descending
    private final int[] attended;     // [position] == stamp: attended in this callback
    private final int[] useful;       // [position] == stamp: in some group head's top-k
    private int stamp;

    /**
     * @param recorder the decorator around the observed cache
     * @param config the observed cache's configuration (budget, sink, window)
     * @param topK k of the top-k recall (&gt; 0)
     */
    public AttentionRecall(KeyRecordingCache recorder, CacheConfig config, int topK) {
        if (topK <= 0) {
            throw new IllegalArgumentException("topK=" + topK + " must be > 0");
        }
        this.recorder = recorder;
        this.shape = recorder.shape();
        this.topK = topK;
        this.budgetTokens = config.budgetTokens();
        this.sinkTokens = config.sinkTokens();
        this.windowPages = config.windowPages();
        int n = shape.maxTokens();
        this.scores = new double[n];
        this.best = new double[topK];
        this.attended = new int[n];
        this.useful = new int[n];
    }

    /** Totals over every sparse position. */
    public RecallTotals all() {
        return all;
    }

    /** Totals over positions p with p + 1 &gt; budget (more cached positions than the budget holds). */
    public RecallTotals overBudget() {
        return overBudget;
    }

    @Override
    public void accept(int layer, int kvHead, int position, int[] positions, int count) {
        recorder.focus(layer, position); // a prefill block reports its positions one by one
        if (recorder.queryLayer() != layer || recorder.queryPosition() != position
                || recorder.appended(layer) <= position) {
            throw new IllegalStateException("attended positions of layer=" + layer + " position=" + position
                    + " arrived outside the recorder's attend (layer=" + recorder.queryLayer() + " position="
                    + recorder.queryPosition() + "); register this observer on the cache the recorder wraps");
        }
        stamp++;
        for (int i = 0; i < count; i++) {
            attended[positions[i]] = stamp;
        }
        boolean over = position + 1 > budgetTokens;
        int group = shape.groupSize();
        for (int g = 0; g < group; g++) {
            scoreHead(layer, kvHead * group + g, position, over);
        }
        long retrieved = 0;
        long hits = 0;
        int end = windowStart(position);
        for (int i = 0; i < count; i++) {
            int p = positions[i];
            if (p >= sinkTokens && p < end) {
                retrieved++;
                hits += useful[p] == stamp ? 1 : 0;
            }
        }
        all.addRetrieved(retrieved, hits);
        if (over) {
            overBudget.addRetrieved(retrieved, hits);
        }
    }

    private void scoreHead(int layer, int head, int position, boolean over) {
        int n = position + 1;
        double max = recorder.scaledScores(layer, head, n, scores);
        double total = 0;
        double covered = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.exp(scores[i] - max);
            total += e;
            covered += attended[i] == stamp ? e : 0;
        }
        int k = Math.min(topK, n);
        double kth = kthBest(n, k);
        int above = 0;
        int attendedAbove = 0;
        int attendedTies = 0;
        for (int i = 0; i < n; i++) {
            if (scores[i] > kth) {
                above++;
                attendedAbove += attended[i] == stamp ? 1 : 0;
                useful[i] = stamp;
            } else if (scores[i] == kth) {
                attendedTies += attended[i] == stamp ? 1 : 0;
                useful[i] = stamp;
            }
        }
        double recallK = (attendedAbove + Math.min(attendedTies, k - above)) / (double) k;
        double mass = covered / total;
        all.addHead(mass, recallK);
        if (over) {
            overBudget.addHead(mass, recallK);
        }
    }

    /** The k-th largest of scores[0..n), k &lt;= n, by insertion into a descending array of k. */
    private double kthBest(int n, int k) {
        int filled = 0;
        for (int i = 0; i < n; i++) {
            double s = scores[i];
            if (filled == k && s <= best[k - 1]) {
                continue;
            }
            int j = filled == k ? k - 1 : filled++;
            while (j > 0 && best[j - 1] < s) {
                best[j] = best[j - 1];
                j--;
            }
            best[j] = s;
        }
        return best[k - 1];
    }

    /** First position of the window when positions 0..p-1 are committed (see the class comment). */
    int windowStart(int position) {
        int newest = position - 1;
        if (newest < sinkTokens) {
            return sinkTokens;
        }
        int rows = CacheConfig.PAGE_ROWS;
        int newestPage = (newest - sinkTokens) / rows;
        int first = Math.max(0, newestPage - windowPages + 1);
        return sinkTokens + first * rows;
    }
}
