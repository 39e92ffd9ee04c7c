package dev.icecache.kvcache.tree;

/**
 * The ranking scores of one page's rows against one query, {@code RankingDot.dot(q, code row) *
 * scale} per row, as both searches take them before offering any to a heap.
 *
 * <p>NOTE: why four rows at a time. One dot is a chain of dependent adds; scored one row after
 * another, with a heap offer between rows, a dot took 80-100 ns at 64k keys (BENCHMARKS.md, issue
 * 13, twenty-first session). {@link RankingDot#dot4} runs four rows' chains side by side with the
 * same bits, so the CPU overlaps them: a group search at 64k keys went from 4.7 to 3.6 ms. A last
 * group of fewer than four repeats its last row and drops the extra scores. Not thread-safe.
 */
final class PageRowScores {

    private final float[] lanes = new float[32]; // RankingDot.dot4's scratch
    private final float[] four = new float[4];   // and its four dots

    /** {@code out[s]} = the score of slot s of {@code page} ({@code n} rows) for {@code q[qOff ..]}. */
    void score(LeafPages pages, int page, int n, float[] q, int qOff, byte[] codes, float[] scale, int d,
               float[] out) {
        if (d % 8 != 0) {
            for (int s = 0; s < n; s++) {
                int x = pages.node(page, s);
                out[s] = RankingDot.dot(q, qOff, codes, x * d, d) * scale[x];
            }
            return;
        }
        for (int s = 0; s < n; s += 4) {
            int x0 = pages.node(page, s);
            int x1 = s + 1 < n ? pages.node(page, s + 1) : x0;
            int x2 = s + 2 < n ? pages.node(page, s + 2) : x1;
            int x3 = s + 3 < n ? pages.node(page, s + 3) : x2;
            RankingDot.dot4(q, qOff, codes, x0 * d, x1 * d, x2 * d, x3 * d, d, lanes, four, 0);
            out[s] = four[0] * scale[x0];
            if (s + 1 < n) {
                out[s + 1] = four[1] * scale[x1];
            }
            if (s + 2 < n) {
                out[s + 2] = four[2] * scale[x2];
            }
            if (s + 3 < n) {
                out[s + 3] = four[3] * scale[x3];
            }
        }
    }
}
