package dev.icecache.kvcache;

/**
 * Scaled dot-product attention of one query head over a run of rows, the one kernel every
 * policy uses so that their numerics agree (see {@link KvCache}).
 *
 * <pre>
 *   att[i] = (q . k_i) / sqrt(headDim)       for the n rows given, in the order given
 *   att    = softmax(att)                     (max-subtracted, sum in row order)
 *   out    = sum_i att[i] * v_i               (accumulated in row order)
 * </pre>
 *
 * Rows are addressed as {@code keys[kOff[i] .. kOff[i]+headDim)}, so callers can point into
 * contiguous per-head storage or into gathered pages without copying.
 */
public final class HeadAttention {

    private HeadAttention() {
    }

    /** Dot product of two rows of {@code n} floats, accumulated left to right. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    /**
     * The softmax's middle step, shared by every attention kernel so their numerics agree:
     * {@code att[i] = exp(att[i] - max)} in row order, the output row zeroed; returns 1 / sum.
     */
    public static float exponentiate(float[] att, int n, float max, float[] out, int outOff, int headDim) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(att[i] - max);
            att[i] = e;
            sum += e;
        }
        for (int d = 0; d < headDim; d++) {
            out[outOff + d] = 0f;
        }
        return 1f / sum;
    }

    /**
     * Attention over {@code n} rows given by offsets: row i's key at {@code keys[kOff[i]]}, its
     * value at {@code values[vOff[i]]}. Rows are reduced in the order given: callers pass
     * them in increasing position order.
     *
     * @param att scratch of at least {@code n} floats; holds the softmax weights on return
     */
    public static void attend(float[] q, int qOff, float[][] keys, int[] kOff, float[][] values, int[] vOff,
                                      int n, int headDim, float[] att, float[] out, int outOff) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float s = dot(q, qOff, keys[i], kOff[i], headDim) * scale;
            att[i] = s;
            if (s > max) {
                max = s;
            }
        }
        float inv = exponentiate(att, n, max, out, outOff, headDim);
        for (int i = 0; i < n; i++) {
            float w = att[i] * inv;
            att[i] = w;
            float[] vr = values[i];
            int vo = vOff[i];
            for (int d = 0; d < headDim; d++) {
                out[outOff + d] += w * vr[vo + d];
            }
        }
    }
}
