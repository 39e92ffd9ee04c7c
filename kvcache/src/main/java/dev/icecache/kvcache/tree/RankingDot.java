package dev.icecache.kvcache.tree;

import dev.icecache.kvcache.HeadAttention;

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
 *
 * <p>Where the JVM has 256-bit vectors, {@link RankingDotVector} computes the same lanes with the
 * Vector API (1.3-1.4x faster searches at 64k keys); the result is bit-identical either way.
 * {@code -Dicecache.ranking.vector=false} forces the scalar code.
 */
public final class RankingDot {

    /** Whether {@link #dot} runs on {@link RankingDotVector}: wanted, module present, 256-bit hardware. */
    static final boolean VECTOR = vectorAvailable();

    private RankingDot() {
    }

    private static boolean vectorAvailable() {
        if (!Boolean.parseBoolean(System.getProperty("icecache.ranking.vector", "true"))) {
            return false;
        }
        try {
            return RankingDotVector.hardwareSupported();
        } catch (LinkageError missingModule) {
            // the JVM was started without --add-modules jdk.incubator.vector: the scalar code is exact too
            return false;
        }
    }

    /**
     * The dot product of {@code a[aOff..aOff+n)} and {@code b[bOff..bOff+n)} in the order of the
     * class comment.
     *
     * @param n number of floats, &gt;= 0
     * @return the ranking score; 0 when n = 0
     */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return VECTOR ? RankingDotVector.dot(a, aOff, b, bOff, n) : scalar(a, aOff, b, bOff, n);
    }

    /**
     * The dot product of {@code q[qOff..qOff+n)} and int8 codes {@code c[cOff..cOff+n)} in the
     * order of the class comment (each code widened to float exactly): the same value as
     * {@link #dot(float[], int, float[], int, int)} over the codes as floats. {@link CompactKeys}
     * multiplies it by the row's scale.
     */
    public static float dot(float[] q, int qOff, byte[] c, int cOff, int n) {
        return VECTOR ? RankingDotVector.dot(q, qOff, c, cOff, n) : scalar(q, qOff, c, cOff, n);
    }

    /**
     * {@link #dot(float[], int, byte[], int, int)} of {@code q} against four rows of codes at
     * {@code c0 .. c3}, with the same bits: {@code out[o + u]} for row u. {@code n} is a multiple
     * of 8; {@code lanes} is 32 floats of scratch. Four independent sums let the CPU overlap what
     * one dot's chain of adds keeps waiting for.
     */
    public static void dot4(float[] q, int qOff, byte[] c, int c0, int c1, int c2, int c3, int n, float[] lanes,
                            float[] out, int o) {
        if (VECTOR) {
            RankingDotVector.dot4(q, qOff, c, c0, c1, c2, c3, n, lanes, out, o);
        } else {
            out[o] = scalar(q, qOff, c, c0, n);
            out[o + 1] = scalar(q, qOff, c, c1, n);
            out[o + 2] = scalar(q, qOff, c, c2, n);
            out[o + 3] = scalar(q, qOff, c, c3, n);
        }
    }

    /** The lanes {@code lanes[at .. at+8)} combined in the class comment's pairwise order. */
    static float combine(float[] lanes, int at) {
        return ((lanes[at] + lanes[at + 1]) + (lanes[at + 2] + lanes[at + 3]))
                + ((lanes[at + 4] + lanes[at + 5]) + (lanes[at + 6] + lanes[at + 7]));
    }

    /** The scalar kernel over int8 codes, always available. */
    static float scalar(float[] a, int aOff, byte[] b, int bOff, int n) {
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
        return finish(s0, s1, s2, s3, s4, s5, s6, s7, a, aOff + i, b, bOff + i, n - i);
    }

    /** {@link HeadAttention#finishDot} over codes. */
    static float finish(float s0, float s1, float s2, float s3, float s4, float s5, float s6, float s7,
                        float[] a, int x, byte[] b, int y, int r) {
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

    /** The scalar kernel, always available: attention's dot, which has this very order. */
    static float scalar(float[] a, int aOff, float[] b, int bOff, int n) {
        return HeadAttention.scalarDot(a, aOff, b, bOff, n);
    }

    /**
     * Adds the last {@code r} &lt; 8 terms, which start at a multiple of 8 so term i + j belongs to
     * lane j, and combines the lanes pairwise ({@link HeadAttention#finishDot}).
     */
    static float finish(float s0, float s1, float s2, float s3, float s4, float s5, float s6, float s7,
                        float[] a, int x, float[] b, int y, int r) {
        return HeadAttention.finishDot(s0, s1, s2, s3, s4, s5, s6, s7, a, x, b, y, r);
    }
}
