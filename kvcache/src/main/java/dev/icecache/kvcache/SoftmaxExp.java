package dev.icecache.kvcache;

/**
 * The exponential and the sum of attention's softmax ({@link HeadAttention#softmax}), written as
 * float adds and multiplies in one fixed order, so that they give the same bits on every machine
 * and JVM, and a vector form of them could give the same bits at every width.
 *
 * <pre>
 *   exp(x), for x &lt;= 0 (a score minus its row's max):
 *     x    = max(x, LOWEST)                   LOWEST = -87: e^x is then near the smallest normal float
 *     t    = x * LOG2E + 1.5 * 2^23           the add rounds x / ln 2 to an integer k ...
 *     k    = t - 1.5 * 2^23                   ... and t's low bits hold k, so 2^k = bits((bits(t) + 127) &lt;&lt; 23)
 *     r    = (x - k * C1) - k * C2            C1 + C2 = ln 2; k * C1 is exact (C1 has 9 bits)
 *     p    = ((((P0 r + P1) r + P2) r + P3) r + P4) r + P5
 *     e^x  = (((p * (r * r)) + r) + 1) * 2^k  Cephes' expf polynomial, error about 1 ulp
 *
 *   sum of n values: sixteen partial sums, lane j over the values i = j, j+16, j+32, ...
 *     in increasing i, then combined pairwise:
 *     (((l0+l1)+(l2+l3)) + ((l4+l5)+(l6+l7))) + (((l8+l9)+(l10+l11)) + ((l12+l13)+(l14+l15)))
 * </pre>
 *
 * NOTE: why not {@code Math.exp} and one sum in row order, as before (issue 13, ninth session).
 * At 64k rows the dense layers' softmax took about a third of their attention: one
 * {@code Math.exp} call per row and one chain of dependent adds. The polynomial is cheaper than the
 * call and the sixteen chains overlap; both are defined by IEEE float operations alone, so they do
 * not depend on the JVM's intrinsics either. Outputs move by about an ulp against the old forms;
 * every kernel uses these, so the policies still agree bit for bit. {@link #expMinus} runs as plain
 * loops that C2 vectorizes by itself (BENCHMARKS.md, issue 13, tenth session). The attention's
 * block kernels run the same operations on the Vector API instead ({@code BlockAttentionVector.softmax}),
 * which in the tenth session made C2 (JDK 17) box their vectors; the cause was C2's per-method trap
 * limit, which the engine's JVMs now raise (issue 13, nineteenth and twentieth sessions).
 */
public final class SoftmaxExp {

    /** Arguments below are raised to it: e^-87 is about 1.6e-38, which no weight sum can see. */
    public static final float LOWEST = -87f;
    /** The exponential's constants, public for vector forms of the same operations. */
    public static final float LOG2E = 1.44269504088896341f;
    /** 1.5 * 2^23: adding it rounds a float of magnitude below 2^22 to an integer. */
    public static final float ROUNDER = 12582912f;
    public static final float C1 = 0.693359375f;
    public static final float C2 = -2.12194440e-4f;
    public static final float P0 = 1.9875691500e-4f;
    public static final float P1 = 1.3981999507e-3f;
    public static final float P2 = 8.3334519073e-3f;
    public static final float P3 = 4.1665795894e-2f;
    public static final float P4 = 1.6666665459e-1f;
    public static final float P5 = 5.0000001201e-1f;
    /** The float exponent bias, added to k to form 2^k. */
    public static final int BIAS = 127;
    /** Partial sums of {@link #sum}. */
    private static final int LANES = 16;
    /** Elements per pass of {@link #expMinus}. */
    private static final int BLOCK = 256;
    /**
     * Per thread, {@link #expMinus}'s two blocks of scratch (2 KB): its callers hand it no scratch,
     * and a softmax runs on the compute pool's and the operators' long-lived threads.
     */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][BLOCK]);

    private SoftmaxExp() {
    }

    /** e^x as the class comment defines it; meant for x &lt;= 0 (NaN gives NaN). */
    public static float exp(float x) {
        x = Math.max(x, LOWEST);
        float t = x * LOG2E + ROUNDER;
        return expOfRemainder(remainder(x, t)) * pow2(t);
    }

    /** r = x - k ln 2 for t = k + 1.5 * 2^23, in two steps (C1 + C2 = ln 2; k * C1 is exact). */
    private static float remainder(float x, float t) {
        float k = t - ROUNDER;
        return (x - k * C1) - k * C2;
    }

    /** e^r for |r| &lt;= ln 2 / 2: Cephes' polynomial, float adds and multiplies only. */
    private static float expOfRemainder(float r) {
        float p = ((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5;
        return (p * (r * r) + r) + 1f;
    }

    /** 2^k for t = k + 1.5 * 2^23 (k an integer in [-126, 0]): the exponent field built from t's low bits. */
    private static float pow2(float t) {
        return Float.intBitsToFloat((Float.floatToRawIntBits(t) + BIAS) << 23);
    }

    /**
     * {@code att[i] = exp(att[i] - max)} for i in {@code [from, from+n)}: the bits of {@link #exp}
     * for every element, {@link #BLOCK} elements at a time. Per block the inputs are copied to a
     * scratch, the polynomial part runs over it in a loop of float operations alone (no bit
     * moves), which C2 vectorizes, and 2^k is applied in a second, scalar, loop.
     *
     * <p>NOTE: the split is for C2's own vectorization (JDK 17): a loop that moves float bits to
     * ints, or that stores to two arrays at different offsets, stays scalar (3.5 ns per element
     * against 0.4). The Vector API form of this loop made C2 box the block kernels' vectors
     * elsewhere (see the class comment); plain loops cannot.
     */
    public static void expMinus(float[] att, int from, int n, float max) {
        float[][] scratch = SCRATCH.get();
        float[] x = scratch[0]; // the block's arguments, then e^r
        float[] t = scratch[1]; // k + 1.5 * 2^23 per element
        for (int b0 = from, end = from + n; b0 < end; b0 += BLOCK) {
            int m = Math.min(BLOCK, end - b0);
            System.arraycopy(att, b0, x, 0, m);
            expParts(x, t, m, max);
            for (int i = 0; i < m; i++) {
                att[b0 + i] = x[i] * pow2(t[i]);
            }
        }
    }

    /** {@code x[i] = } e^r and {@code t[i] = } k + 1.5 * 2^23 of {@code x[i] - max}, as {@link #exp} computes them. */
    private static void expParts(float[] x, float[] t, int m, float max) {
        for (int i = 0; i < m; i++) {
            float a = Math.max(x[i] - max, LOWEST);
            float ti = a * LOG2E + ROUNDER;
            x[i] = expOfRemainder(remainder(a, ti));
            t[i] = ti;
        }
    }

    /** The sum of {@code a[from .. from+n)} in the order of the class comment; 0 for n = 0. */
    public static float sum(float[] a, int from, int n) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        float s4 = 0f;
        float s5 = 0f;
        float s6 = 0f;
        float s7 = 0f;
        float s8 = 0f;
        float s9 = 0f;
        float s10 = 0f;
        float s11 = 0f;
        float s12 = 0f;
        float s13 = 0f;
        float s14 = 0f;
        float s15 = 0f;
        int i = from;
        int end = from + n;
        for (; i + LANES <= end; i += LANES) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
            s4 += a[i + 4];
            s5 += a[i + 5];
            s6 += a[i + 6];
            s7 += a[i + 7];
            s8 += a[i + 8];
            s9 += a[i + 9];
            s10 += a[i + 10];
            s11 += a[i + 11];
            s12 += a[i + 12];
            s13 += a[i + 13];
            s14 += a[i + 14];
            s15 += a[i + 15];
        }
        // the last n % 16 values go to lanes 0 .. n % 16 - 1, still in increasing i per lane
        // (plain ifs, no array: softmax runs per query head and row block, allocation-free)
        int r = end - i;
        if (r > 0) {
            s0 += a[i];
        }
        if (r > 1) {
            s1 += a[i + 1];
        }
        if (r > 2) {
            s2 += a[i + 2];
        }
        if (r > 3) {
            s3 += a[i + 3];
        }
        if (r > 4) {
            s4 += a[i + 4];
        }
        if (r > 5) {
            s5 += a[i + 5];
        }
        if (r > 6) {
            s6 += a[i + 6];
        }
        if (r > 7) {
            s7 += a[i + 7];
        }
        if (r > 8) {
            s8 += a[i + 8];
        }
        if (r > 9) {
            s9 += a[i + 9];
        }
        if (r > 10) {
            s10 += a[i + 10];
        }
        if (r > 11) {
            s11 += a[i + 11];
        }
        if (r > 12) {
            s12 += a[i + 12];
        }
        if (r > 13) {
            s13 += a[i + 13];
        }
        if (r > 14) {
            s14 += a[i + 14];
        }
        return (((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)))
                + (((s8 + s9) + (s10 + s11)) + ((s12 + s13) + (s14 + s15)));
    }
}
