package dev.icecache.kvcache;

/**
 * Scaled dot-product attention of the query heads of one KV head over a run of rows, the one
 * kernel every policy uses so that their numerics agree (see {@link KvCache}).
 *
 * <pre>
 *   for each query head g of the group (g = 0..heads-1), independently:
 *     att[i] = dot(q_g, k_i) * (1 / sqrt(headDim))   for the n rows given, in the order given
 *     att    = softmax(att)                           (max-subtracted; SoftmaxExp's exp and 16-lane sum)
 *     out_g  = sum_i att[i] * v_i                     (per dimension d, accumulated in row order)
 *
 *   dot(a, b) over n floats, eight partial sums (lanes) in a fixed order:
 *     lane j = sum of a[i]*b[i] over i = j, j+8, j+16, ... &lt; n, in increasing i     (j = 0..7)
 *     dot    = ((lane0 + lane1) + (lane2 + lane3)) + ((lane4 + lane5) + (lane6 + lane7))
 * </pre>
 *
 * <p><b>Bit-equality contract.</b> Every product is a plain float multiply followed by a plain
 * float add (never a fused multiply-add), every sum has the order written above, and nothing
 * depends on the machine: the dot's eight lanes are the same whether they are eight scalars, two
 * 128-bit vectors or one 256-bit vector, and the value accumulation is element-wise (dimension d
 * never mixes with another), so any vector width gives the same bits. Hence:
 * <ul>
 *   <li>two policies that hand the same rows in the same (position) order get identical outputs,
 *       which is how every policy that attends to every position equals {@code FullCache} bit for bit;
 *   <li>a query head's output does not depend on the other heads attended with it
 *       ({@link #attendGroup} equals {@code heads} calls of {@link #attend});
 *   <li>a sequence restored on a machine with other vector hardware continues with the same tokens.
 * </ul>
 * The 8-lane order (rather than one left-to-right chain) lets the CPU overlap the adds; it is the
 * order {@code RankingDot} ranks keys with, so attention and index scores agree.
 *
 * <p>NOTE: the scalar code is the default; {@code -Dicecache.attention.vector=true} runs
 * {@link HeadAttentionVector} (same bits). In the engine the model's kernels use the preferred
 * (512-bit) float vectors; adding this kernel's 256-bit ones made the JIT stop scalar-replacing
 * vectors, and decode allocated 2.7 MB per step ({@code AllocationFreeDecodeTest}). The scalar
 * eight chains already remove the add latency that the old single chain waited on, and the value
 * loop is element-wise, which the JIT vectorizes by itself.
 *
 * <p>Rows are addressed as {@code keys[i][kOff[i] .. kOff[i]+headDim)}, so callers can point into
 * contiguous per-head storage or into gathered pages without copying.
 */
public final class HeadAttention {

    /** Whether the Vector API kernels run: asked for, module present. Results are the same either way. */
    static final boolean VECTOR = vectorAvailable();

    private HeadAttention() {
    }

    private static boolean vectorAvailable() {
        if (!Boolean.parseBoolean(System.getProperty("icecache.attention.vector", "false"))) {
            return false;
        }
        try {
            return HeadAttentionVector.hardwareSupported();
        } catch (LinkageError missingModule) {
            // started without --add-modules jdk.incubator.vector: the scalar code gives the same bits
            return false;
        }
    }

    /** Dot product of two rows of {@code n} floats in the fixed 8-lane order of the class comment. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return VECTOR ? HeadAttentionVector.dot(a, aOff, b, bOff, n) : scalarDot(a, aOff, b, bOff, n);
    }

    /** The scalar dot, always available: the reference for the vector kernels (and {@code RankingDot}'s). */
    public static float scalarDot(float[] a, int aOff, float[] b, int bOff, int n) {
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
        return finishDot(s0, s1, s2, s3, s4, s5, s6, s7, a, aOff + i, b, bOff + i, n - i);
    }

    /**
     * Adds the last {@code r} &lt; 8 terms (term x + j belongs to lane j) and combines the lanes
     * pairwise.
     */
    public static float finishDot(float s0, float s1, float s2, float s3, float s4, float s5, float s6, float s7,
                           float[] a, int x, float[] b, int y, int r) {
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

    /**
     * The softmax shared by every attention kernel so their numerics agree: over
     * {@code att[from .. from+n)}, the max, then {@code SoftmaxExp.exp(att[i] - max)} and their
     * {@link SoftmaxExp#sum} (sixteen partial sums), then each weight times {@code 1 / sum}.
     */
    public static void softmax(float[] att, int from, int n) {
        SoftmaxExp.expMinus(att, from, n, max(att, from, n));
        float sum = SoftmaxExp.sum(att, from, n);
        float inv = 1f / sum;
        for (int i = from; i < from + n; i++) {
            att[i] = att[i] * inv;
        }
    }

    /**
     * The largest of {@code att[from .. from+n)} (NaN never; -inf for n = 0), in four interleaved
     * chains so the compares overlap. A maximum does not depend on the order it is taken in: only
     * +0 against -0 can differ, and {@code x - max} is then the same for every x but -0, whose
     * exponential is 1 either way.
     */
    static float max(float[] att, int from, int n) {
        float m0 = Float.NEGATIVE_INFINITY;
        float m1 = m0;
        float m2 = m0;
        float m3 = m0;
        int i = from;
        int end = from + n;
        for (; i + 4 <= end; i += 4) {
            m0 = att[i] > m0 ? att[i] : m0;
            m1 = att[i + 1] > m1 ? att[i + 1] : m1;
            m2 = att[i + 2] > m2 ? att[i + 2] : m2;
            m3 = att[i + 3] > m3 ? att[i + 3] : m3;
        }
        for (; i < end; i++) {
            m0 = att[i] > m0 ? att[i] : m0;
        }
        m0 = m1 > m0 ? m1 : m0;
        m2 = m3 > m2 ? m3 : m2;
        return m2 > m0 ? m2 : m0;
    }

    /**
     * Attention of one query head over {@code n} rows given by offsets: row i's key at
     * {@code keys[i][kOff[i]]}, its value at {@code values[i][vOff[i]]}. Rows are reduced in the
     * order given: callers pass them in increasing position order.
     *
     * @param att scratch of at least {@code n} floats; holds the softmax weights on return
     */
    public static void attend(float[] q, int qOff, float[][] keys, int[] kOff, float[][] values, int[] vOff,
                              int n, int headDim, float[] att, float[] out, int outOff) {
        attendGroup(q, qOff, 1, keys, kOff, values, vOff, n, headDim, att, out, outOff);
    }

    /**
     * Attention of {@code heads} query heads that share the rows (one GQA group): head g's query at
     * {@code q[qOff + g*headDim]}, its output at {@code out[outOff + g*headDim]}. Each key and
     * value row is read once for the group; every head's result has the bits of {@link #attend}.
     *
     * @param att scratch of at least {@code heads * n} floats; head g's softmax weights at {@code att[g*n ..]} on return
     */
    public static void attendGroup(float[] q, int qOff, int heads, float[][] keys, int[] kOff, float[][] values,
                                   int[] vOff, int n, int headDim, float[] att, float[] out, int outOff) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int i = 0; i < n; i++) {
            float[] kr = keys[i];
            int ko = kOff[i];
            for (int g = 0; g < heads; g++) {
                att[g * n + i] = dot(q, qOff + g * headDim, kr, ko, headDim) * scale;
            }
        }
        for (int g = 0; g < heads; g++) {
            softmax(att, g * n, n);
            int o = outOff + g * headDim;
            for (int d = 0; d < headDim; d++) {
                out[o + d] = 0f;
            }
        }
        for (int i = 0; i < n; i++) {
            float[] vr = values[i];
            int vo = vOff[i];
            for (int g = 0; g < heads; g++) {
                accumulate(att[g * n + i], vr, vo, out, outOff + g * headDim, headDim);
            }
        }
    }

    /** {@code out[d] += w * v[d]} for d in [0, n): element-wise, so any vector width gives the same bits. */
    static void accumulate(float w, float[] v, int vOff, float[] out, int outOff, int n) {
        if (VECTOR) {
            HeadAttentionVector.accumulate(w, v, vOff, out, outOff, n);
        } else {
            scalarAccumulate(w, v, vOff, out, outOff, n, 0);
        }
    }

    /** The scalar accumulation of elements {@code from..n}. */
    static void scalarAccumulate(float w, float[] v, int vOff, float[] out, int outOff, int n, int from) {
        for (int d = from; d < n; d++) {
            out[outOff + d] += w * v[vOff + d];
        }
    }
}
