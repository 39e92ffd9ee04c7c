package dev.icecache.kvcache.attention;

import dev.icecache.kvcache.HeadAttention;
import dev.icecache.kvcache.page.PageFormat;

/**
 * {@link HeadAttention#attend}'s numerics over rows kept as BF16 bits, two bytes per value, for
 * storage that holds a whole sequence (the dense layers). Widening BF16 to float32 is exact, so
 * every product, sum and weight is the one {@link HeadAttention} computes over the widened rows,
 * in the same order: the result is bit-identical (tested), and no float copy of the rows exists.
 *
 * <pre>
 *   rows: keys[p*headDim .. (p+1)*headDim) and values[..] for p = 0 .. n-1, in position order
 * </pre>
 */
public final class Bf16Attention {

    private Bf16Attention() {
    }

    /**
     * Attention of the query row at {@code q[qOff]} over the first {@code n} rows.
     *
     * @param att scratch of at least {@code n} floats; holds the softmax weights on return
     */
    public static void attend(float[] q, int qOff, short[] keys, short[] values, int n, int headDim, float[] att,
                              float[] out, int outOff) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            int ko = i * headDim;
            float dot = 0f;
            for (int d = 0; d < headDim; d++) {
                dot += q[qOff + d] * PageFormat.widen(keys[ko + d]);
            }
            float s = dot * scale;
            att[i] = s;
            if (s > max) {
                max = s;
            }
        }
        float inv = HeadAttention.exponentiate(att, n, max, out, outOff, headDim);
        for (int i = 0; i < n; i++) {
            float w = att[i] * inv;
            att[i] = w;
            int vo = i * headDim;
            for (int d = 0; d < headDim; d++) {
                out[outOff + d] += w * PageFormat.widen(values[vo + d]);
            }
        }
    }
}
