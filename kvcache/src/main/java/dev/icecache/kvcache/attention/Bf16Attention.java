package dev.icecache.kvcache.attention;

import dev.icecache.kvcache.HeadAttention;
import dev.icecache.kvcache.page.PageFormat;

/**
 * {@link HeadAttention#attend}'s numerics over rows kept as BF16 bits, two bytes per value, one
 * query at a time: the reference the device kernels are checked against (the dense layers now
 * widen a block's rows for {@link BlockAttention}, with the same bits). Widening BF16 to float32 is exact, so
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

    /** {@link HeadAttention#scalarDot}'s fixed 8-lane order over widened BF16 keys (same bits). */
    private static float dot(float[] a, int aOff, short[] b, int bOff, int n) {
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
            s0 += a[x] * PageFormat.widen(b[y]);
            s1 += a[x + 1] * PageFormat.widen(b[y + 1]);
            s2 += a[x + 2] * PageFormat.widen(b[y + 2]);
            s3 += a[x + 3] * PageFormat.widen(b[y + 3]);
            s4 += a[x + 4] * PageFormat.widen(b[y + 4]);
            s5 += a[x + 5] * PageFormat.widen(b[y + 5]);
            s6 += a[x + 6] * PageFormat.widen(b[y + 6]);
            s7 += a[x + 7] * PageFormat.widen(b[y + 7]);
        }
        int r = n - i;
        int x = aOff + i;
        int y = bOff + i;
        s0 += r > 0 ? a[x] * PageFormat.widen(b[y]) : 0f;
        s1 += r > 1 ? a[x + 1] * PageFormat.widen(b[y + 1]) : 0f;
        s2 += r > 2 ? a[x + 2] * PageFormat.widen(b[y + 2]) : 0f;
        s3 += r > 3 ? a[x + 3] * PageFormat.widen(b[y + 3]) : 0f;
        s4 += r > 4 ? a[x + 4] * PageFormat.widen(b[y + 4]) : 0f;
        s5 += r > 5 ? a[x + 5] * PageFormat.widen(b[y + 5]) : 0f;
        s6 += r > 6 ? a[x + 6] * PageFormat.widen(b[y + 6]) : 0f;
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /**
     * Attention of the query row at {@code q[qOff]} over the first {@code n} rows.
     *
     * @param att scratch of at least {@code n} floats; holds the softmax weights on return
     */
    public static void attend(float[] q, int qOff, short[] keys, short[] values, int n, int headDim, float[] att,
                              float[] out, int outOff) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int i = 0; i < n; i++) {
            att[i] = dot(q, qOff, keys, i * headDim, headDim) * scale;
        }
        HeadAttention.softmax(att, 0, n);
        for (int d = 0; d < headDim; d++) {
            out[outOff + d] = 0f;
        }
        for (int i = 0; i < n; i++) {
            float w = att[i];
            int vo = i * headDim;
            for (int d = 0; d < headDim; d++) {
                out[outOff + d] += w * PageFormat.widen(values[vo + d]);
            }
        }
    }
}
