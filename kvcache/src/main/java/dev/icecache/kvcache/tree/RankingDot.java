package dev.icecache.kvcache.tree;

/**
 * The q.k kernel the DCI-tree search ranks keys with: eight independent partial sums instead of
 * attention's one left-to-right sum.
 *
 * <pre>
 *   lane j = sum of a[i]*b[i] over i = j, j+8, j+16, ... &lt; n, in increasing i     (j = 0..7)
 *   dot    = ((lane0 + lane1) + (lane2 + lane3)) + ((lane4 + lane5) + (lane6 + lane7))
 * </pre>
 *
 * NOTE: why a second dot. {@code HeadAttention.dot} must add in row order so that every policy's
 * attention is bit-identical to the full cache; that is one chain of n dependent float adds, and
 * at 64k keys the search spent 90% of its time waiting on it (the add latency, not memory). The
 * index only <i>ranks</i> keys, so any fixed summation order serves; eight chains let the CPU
 * overlap the adds. The order above is fixed and uses plain float multiply and add (no FMA, no
 * vector width that depends on the machine), so a search gives the same pages on every JVM and
 * CPU, which snapshots and replays rely on. Scores differ from attention's by rounding only
 * (a few ulps of the terms' magnitudes), so pages that tie under one order may not tie under the
 * other; the search's brute-force tests use this order.
 */
public final class RankingDot {

    private RankingDot() {
    }

    /**
     * The dot product of {@code a[aOff..aOff+n)} and {@code b[bOff..bOff+n)} in the order of the
     * class comment.
     *
     * @param n number of floats, &gt;= 0
     * @return the ranking score; 0 when n = 0
     */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        float s4 = 0f;
        float s5 = 0f;
        float s6 = 0f;
        float s7 = 0f;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            int x = aOff + i;
            int y = bOff + i;
            s0 += a[x] * b[y];
            s1 += a[x + 1] * b[y + 1];
            s2 += a[x + 2] * b[y + 2];
            s3 += a[x + 3] * b[y + 3];
            s4 += a[x + 4] * b[y + 4];
            s5 += a[x + 5] * b[y + 5];
            s6 += a[x + 6] * b[y + 6];
            s7 += a[x + 7] * b[y + 7];
        }
        // the tail's element i + r belongs to lane r, because i is a multiple of 8 here
        int r = n - i;
        int x = aOff + i;
        int y = bOff + i;
        if (r > 0) {
            s0 += a[x] * b[y];
        }
        if (r > 1) {
            s1 += a[x + 1] * b[y + 1];
        }
        if (r > 2) {
            s2 += a[x + 2] * b[y + 2];
        }
        if (r > 3) {
            s3 += a[x + 3] * b[y + 3];
        }
        if (r > 4) {
            s4 += a[x + 4] * b[y + 4];
        }
        if (r > 5) {
            s5 += a[x + 5] * b[y + 5];
        }
        if (r > 6) {
            s6 += a[x + 6] * b[y + 6];
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }
}
