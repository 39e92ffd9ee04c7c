package dev.icecache.kvcache.tree;

/**
 * The one form in which a tree keeps a key: int8 codes with one float scale per row (issue 12:
 * about 100 bytes per token per tree, where two float32 copies took 512). The tree ranks,
 * clusters and snapshots these compact keys only; the exact rows live in the pages.
 *
 * <pre>
 *   scale    = max |k[i]| / 127                       (0 for the zero row)
 *   code[i]  = round(k[i] / scale), in [-127, 127]     (float division, Math.round)
 *   key      = code * scale
 *   ranking score of q       = RankingDot.dot(q, code) * scale      (one float multiply)
 *   key-key dot (clustering) = (sum of code_a[i] * code_b[i], exact in int) * scale_a * scale_b  (double)
 * </pre>
 *
 * The rounding error of a code is at most scale / 2, so a score moves by at most
 * |q|_1 * scale / 2: ranking is approximate, and selection recall against an exact float32
 * search is measured by {@code bench index} (BENCHMARKS.md, issue 12).
 */
public final class CompactKeys {

    /** Largest code magnitude. */
    static final int MAX_CODE = 127;

    private CompactKeys() {
    }

    /**
     * Quantizes one row of {@code d} floats at {@code src[off]} into {@code codes[codesOff..]}.
     *
     * @return the row's scale (0 for a zero row)
     */
    public static float quantize(float[] src, int off, int d, byte[] codes, int codesOff) {
        float maxAbs = 0f;
        for (int i = 0; i < d; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(src[off + i]));
        }
        if (maxAbs == 0f) {
            for (int i = 0; i < d; i++) {
                codes[codesOff + i] = 0;
            }
            return 0f;
        }
        float scale = maxAbs / MAX_CODE;
        for (int i = 0; i < d; i++) {
            int c = Math.round(src[off + i] / scale);
            codes[codesOff + i] = (byte) Math.max(-MAX_CODE, Math.min(MAX_CODE, c));
        }
        return scale;
    }

    /** The ranking score of the query row at {@code q[qOff]} against one compact key. */
    public static float score(float[] q, int qOff, byte[] codes, int off, float scale, int d) {
        return RankingDot.dot(q, qOff, codes, off, d) * scale;
    }

    /**
     * sum code_a[i] * code_b[i], exact: the same int on the vector and the scalar path. The parent
     * search of tree growth runs it against every node of the level above (BENCHMARKS.md, issue 13:
     * most of a streaming insert's time).
     */
    static int codeDot(byte[] codes, int offA, int offB, int d) {
        return RankingDot.VECTOR ? CodeDotVector.codeDot(codes, offA, offB, d) : scalarCodeDot(codes, offA, offB, d);
    }

    /**
     * {@link #codeDot} of the row at {@code offA} with the four rows at {@code b0 .. b3}, into
     * {@code out[0 .. 3]}: the same ints, the four sums side by side.
     */
    static void codeDot4(byte[] codes, int offA, int b0, int b1, int b2, int b3, int d, int[] out) {
        if (RankingDot.VECTOR && d % 8 == 0) {
            CodeDotVector.codeDot4(codes, offA, b0, b1, b2, b3, d, out);
        } else {
            out[0] = codeDot(codes, offA, b0, d);
            out[1] = codeDot(codes, offA, b1, d);
            out[2] = codeDot(codes, offA, b2, d);
            out[3] = codeDot(codes, offA, b3, d);
        }
    }

    /** {@link #codeDot} as a plain loop, always available. */
    static int scalarCodeDot(byte[] codes, int offA, int offB, int d) {
        int s = 0;
        for (int i = 0; i < d; i++) {
            s += codes[offA + i] * codes[offB + i];
        }
        return s;
    }
}
