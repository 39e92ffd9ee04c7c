package dev.icecache.kvcache.select;

/**
 * Quest: positional pages scored by their per-channel key digest,
 * {@code score = sum_i max(q_i * min_i, q_i * max_i)} (an upper bound of q.k over the page),
 * best {@code maxPages} per query head, query heads merged rank by rank (icecache.md
 * "Closest alternatives").
 */
public final class QuestSelector extends PositionalSelector {

    private final TopK top = new TopK();
    private final GqaMerge merge = new GqaMerge();
    private int[] lists = new int[0];
    private int[] counts = new int[0];

    /** A selector over the streams of {@code spec}. */
    public QuestSelector(SelectorSpec spec) {
        super(spec, false, true);
    }

    /** Quest's score of page {@code page} for the query row at {@code q[qOff]}. */
    public float score(int layer, int kvHead, int page, float[] q, int qOff) {
        int s = spec.stream(layer, kvHead);
        float[] mn = digestMin[s];
        float[] mx = digestMax[s];
        int d0 = page * headDim;
        float sum = 0f;
        for (int d = 0; d < headDim; d++) {
            float qi = q[qOff + d];
            sum += Math.max(qi * mn[d0 + d], qi * mx[d0 + d]);
        }
        return sum;
    }

    @Override
    public int select(int layer, int kvHead, int position, float[] q, int qOff, int queryHeads, int maxPages,
                      int[] out) {
        int count = pageCount[spec.stream(layer, kvHead)];
        int k = Math.min(maxPages, count);
        ensureScratch(queryHeads, k);
        for (int h = 0; h < queryHeads; h++) {
            top.reset(k);
            int qh = qOff + h * headDim;
            for (int p = 0; p < count; p++) {
                top.offer(p, score(layer, kvHead, p, q, qh));
            }
            exactDots += count;
            counts[h] = top.drainBestFirst(lists, h * k);
        }
        return merge.merge(lists, k, counts, queryHeads, k, out);
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
