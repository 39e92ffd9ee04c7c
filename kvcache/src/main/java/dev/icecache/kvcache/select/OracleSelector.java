package dev.icecache.kvcache.select;

import dev.icecache.kvcache.HeadAttention;

/**
 * The oracle upper bound: scores every indexed token exactly. Page level ({@link #select}): a
 * positional page's score is its best token's q.k, best {@code maxPages} per query head, merged
 * rank by rank. Token level ({@link #selectTokens}): the exact best tokens, merged the same way.
 */
public final class OracleSelector extends PositionalSelector {

    private final TopK top = new TopK();
    private final GqaMerge merge = new GqaMerge();
    private int[] lists = new int[0];
    private int[] counts = new int[0];

    /** A selector over the streams of {@code spec}. */
    public OracleSelector(SelectorSpec spec) {
        super(spec, true, false);
    }

    @Override
    public int select(int layer, int kvHead, int position, float[] q, int qOff, int queryHeads, int maxPages,
                      int[] out) {
        int s = spec.stream(layer, kvHead);
        int count = pageCount[s];
        int k = Math.min(maxPages, count);
        ensureScratch(queryHeads, k);
        float[] ks = keys[s];
        for (int h = 0; h < queryHeads; h++) {
            top.reset(k);
            int qh = qOff + h * headDim;
            for (int p = 0; p < count; p++) {
                float best = Float.NEGATIVE_INFINITY;
                for (int r = 0; r < rows; r++) {
                    best = Math.max(best, HeadAttention.dot(q, qh, ks, (p * rows + r) * headDim, headDim));
                }
                top.offer(p, best);
            }
            exactDots += (long) count * rows;
            counts[h] = top.drainBestFirst(lists, h * k);
        }
        return merge.merge(lists, k, counts, queryHeads, k, out);
    }

    /**
     * The exact best indexed tokens (positions) for the group's query heads, merged rank by rank.
     *
     * @return the number of positions written to {@code out} (&lt;= maxTokens)
     */
    public int selectTokens(int layer, int kvHead, float[] q, int qOff, int queryHeads, int maxTokens, int[] out) {
        int s = spec.stream(layer, kvHead);
        int n = pageCount[s] * rows;
        int k = Math.min(maxTokens, n);
        ensureScratch(queryHeads, k);
        float[] ks = keys[s];
        for (int h = 0; h < queryHeads; h++) {
            top.reset(k);
            int qh = qOff + h * headDim;
            for (int t = 0; t < n; t++) {
                top.offer(t, HeadAttention.dot(q, qh, ks, t * headDim, headDim));
            }
            exactDots += n;
            counts[h] = top.drainBestFirst(lists, h * k);
        }
        int written = merge.merge(lists, k, counts, queryHeads, k, out);
        for (int i = 0; i < written; i++) {
            out[i] += spec.firstIndexedToken();
        }
        return written;
    }

    private void ensureScratch(int heads, int k) {
        if (lists.length < heads * k) {
            lists = new int[heads * k];
        }
        if (counts.length < heads) {
            counts = new int[heads];
        }
    }
}
