package dev.icecache.kvcache.tree;

import dev.icecache.kvcache.SoftmaxExp;

/**
 * How a page's rows, scored against one query row, become the page's score (issue 18).
 *
 * <pre>
 *   BEST_KEY        max_i s_i                                   the paper: the best key found in the page
 *   ATTENTION_MASS  m + sqrt(d) * ln sum_i exp((s_i - m) / sqrt(d)),  m = max_i s_i
 *                   = sqrt(d) * ln sum_i exp(s_i / sqrt(d)): the log of the page's unnormalised
 *                   softmax mass, in q.k units (so it is &gt;= BEST_KEY and equal for a one-row page)
 * </pre>
 *
 * [ours] Ranking pages by ATTENTION_MASS picks the pages that hold the most of the query's
 * attention: with exhaustive search it equals the best own pages by exact attention mass.
 */
public enum PageScore {
    /** The best row's score (icecache.md "A page's score is the best q.k found in it"). */
    BEST_KEY,
    /** The page's softmax mass, as a log-sum-exp of the rows' scores scaled by 1/sqrt(headDim). */
    ATTENTION_MASS;

    /**
     * The page score of rows scored {@code scores[0..n)} (n &gt;= 1) whose best is {@code best}.
     *
     * @param headDim the head size whose sqrt scales attention
     */
    public float of(float[] scores, int n, float best, int headDim) {
        if (this == BEST_KEY || n == 1) {
            return best;
        }
        // NOTE: float exponentials (SoftmaxExp: plain float operations, the same bits on every JVM
        // and CPU, unlike Math.exp's intrinsic) summed in row order, then one Math.log per page as
        // before. A group search at 64k keys: 3.48-3.58 -> 3.32-3.37 ms; bench fidelity unchanged
        // in every cell (BENCHMARKS.md, issue 13, twenty-first session).
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += SoftmaxExp.exp((scores[i] - best) * scale);
        }
        return best + (float) (Math.log(sum) / scale);
    }
}
