package dev.icecache.model.tensor;

import java.nio.ByteBuffer;

/**
 * Encodes floats into a ggml format: Q8_0, Q4_0 and Q5_0/Q5_1 as ggml's reference quantizers do
 * ({@code quantize_row_q8_0_ref}, ...); the K-quants with plain min/max scales per sub-block (not
 * ggml's iterative search, which only lowers the error): the inverse of {@link FloatTensor#getFloat}
 * up to quantization error. For test and benchmark models, not for quality.
 */
public final class Quantizer {

    private Quantizer() {
    }

    /**
     * Appends {@code src[0 .. n)} encoded as {@code type} to {@code dst} (little-endian);
     * n must be a multiple of the block size.
     */
    public static void encode(GgmlType type, float[] src, int n, ByteBuffer dst) {
        if (n % type.blockSize() != 0) {
            throw new IllegalArgumentException("n=" + n + " is not a multiple of the " + type + " block size=" + type.blockSize());
        }
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    dst.putFloat(src[i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst.putShort(Float16.fromFloat(src[i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst.putShort(Float16.floatToBf16(src[i]));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n; b += 32) {
                    q8Block(src, b, dst);
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n; b += 32) {
                    q4Block(src, b, dst);
                }
            }
            case Q5_0 -> {
                for (int b = 0; b < n; b += 32) {
                    q5_0Block(src, b, dst);
                }
            }
            case Q5_1 -> {
                for (int b = 0; b < n; b += 32) {
                    q5_1Block(src, b, dst);
                }
            }
            case Q4_K, Q5_K -> {
                for (int b = 0; b < n; b += 256) {
                    q45kBlock(type, src, b, dst);
                }
            }
            case Q6_K -> {
                for (int b = 0; b < n; b += 256) {
                    q6kBlock(src, b, dst);
                }
            }
        }
    }

    private static void q5_0Block(float[] src, int off, ByteBuffer dst) {
        // as Q4_0: the element of largest magnitude, sign kept, maps to -16
        float d = signedAbsMax(src, off) / -16f;
        float id = d != 0f ? 1f / d : 0f;
        int[] q = new int[32];
        for (int j = 0; j < 32; j++) {
            q[j] = Math.min(31, (int) (src[off + j] * id + 16.5f));
        }
        dst.putShort(Float16.fromFloat(d));
        putFiveBits(q, dst);
    }

    /** The element of largest magnitude among the 32 at {@code off}, sign kept (the first one on ties). */
    private static float signedAbsMax(float[] src, int off) {
        float max = 0f;
        float amax = 0f;
        for (int j = 0; j < 32; j++) {
            float v = src[off + j];
            if (Math.abs(v) > amax) {
                amax = Math.abs(v);
                max = v;
            }
        }
        return max;
    }

    private static void q5_1Block(float[] src, int off, ByteBuffer dst) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < 32; j++) {
            min = Math.min(min, src[off + j]);
            max = Math.max(max, src[off + j]);
        }
        float d = (max - min) / 31f;
        float id = d != 0f ? 1f / d : 0f;
        int[] q = new int[32];
        for (int j = 0; j < 32; j++) {
            q[j] = Math.min(31, (int) ((src[off + j] - min) * id + 0.5f));
        }
        dst.putShort(Float16.fromFloat(d));
        dst.putShort(Float16.fromFloat(min));
        putFiveBits(q, dst);
    }

    /** u32 of fifth bits (bit j of element j), then 16 bytes: element j low nibble, j+16 high nibble. */
    private static void putFiveBits(int[] q, ByteBuffer dst) {
        int qh = 0;
        for (int j = 0; j < 32; j++) {
            qh |= (q[j] >>> 4) << j;
        }
        dst.putInt(qh);
        for (int j = 0; j < 16; j++) {
            dst.put((byte) ((q[j] & 15) | (q[j + 16] & 15) << 4));
        }
    }

    /** Q4_K or Q5_K: per sub-block of 32 a 6-bit scale and min from its range; then 4 or 5 bits per element. */
    private static void q45kBlock(GgmlType type, float[] src, int off, ByteBuffer dst) {
        int levels = type == GgmlType.Q4_K ? 15 : 31;
        float[] scale = new float[8];
        float[] min = new float[8];
        float maxScale = 0f;
        float maxMin = 0f;
        for (int j = 0; j < 8; j++) {
            float lo = 0f;
            float hi = Float.NEGATIVE_INFINITY;
            for (int l = 0; l < 32; l++) {
                lo = Math.min(lo, src[off + 32 * j + l]);
                hi = Math.max(hi, src[off + 32 * j + l]);
            }
            scale[j] = (hi - lo) / levels;
            min[j] = -lo;
            maxScale = Math.max(maxScale, scale[j]);
            maxMin = Math.max(maxMin, min[j]);
        }
        short dHalf = Float16.fromFloat(maxScale / 63f);
        short dminHalf = Float16.fromFloat(maxMin / 63f);
        float d = Float16.toFloat(dHalf);
        float dmin = Float16.toFloat(dminHalf);
        int[] sc = new int[8];
        int[] m = new int[8];
        int[] q = new int[256];
        for (int j = 0; j < 8; j++) {
            sc[j] = d == 0f ? 0 : Math.min(63, Math.round(scale[j] / d));
            m[j] = dmin == 0f ? 0 : Math.min(63, Math.round(min[j] / dmin));
            float step = d * sc[j];
            float shift = dmin * m[j];
            for (int l = 0; l < 32; l++) {
                int v = step == 0f ? 0 : Math.round((src[off + 32 * j + l] + shift) / step);
                q[32 * j + l] = Math.max(0, Math.min(levels, v));
            }
        }
        dst.putShort(dHalf);
        dst.putShort(dminHalf);
        KQuantScales.put(sc, m, dst);
        if (type == GgmlType.Q5_K) {
            for (int l = 0; l < 32; l++) {
                int bits = 0;
                for (int j = 0; j < 8; j++) {
                    bits |= (q[32 * j + l] >>> 4) << j;
                }
                dst.put((byte) bits);
            }
        }
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                dst.put((byte) ((q[64 * c + l] & 15) | (q[64 * c + 32 + l] & 15) << 4));
            }
        }
    }

    /** Q6_K: per group of 16 an int8 scale (times the f16 d); 6 bits per element stored with offset 32. */
    private static void q6kBlock(float[] src, int off, ByteBuffer dst) {
        float[] scale = new float[16];
        float maxScale = 0f;
        for (int g = 0; g < 16; g++) {
            float amax = 0f;
            for (int l = 0; l < 16; l++) {
                amax = Math.max(amax, Math.abs(src[off + 16 * g + l]));
            }
            scale[g] = amax / 31f;
            maxScale = Math.max(maxScale, scale[g]);
        }
        short dHalf = Float16.fromFloat(maxScale / 127f);
        float d = Float16.toFloat(dHalf);
        byte[] sc = new byte[16];
        int[] q = new int[256];
        for (int g = 0; g < 16; g++) {
            sc[g] = (byte) (d == 0f ? 0 : Math.min(127, Math.round(scale[g] / d)));
            float step = d * sc[g];
            for (int l = 0; l < 16; l++) {
                int v = step == 0f ? 0 : Math.round(src[off + 16 * g + l] / step);
                q[16 * g + l] = Math.max(-32, Math.min(31, v)) + 32;
            }
        }
        // element 128h + 32g + l: low nibble in ql[64h + l + 32 (g % 2)] (nibble g / 2), high bits in qh[32h + l] (bits 2g)
        byte[] ql = new byte[128];
        byte[] qh = new byte[64];
        for (int i = 0; i < 256; i++) {
            int h = i / 128;
            int g = (i % 128) / 32;
            int l = i % 32;
            ql[64 * h + l + 32 * (g % 2)] |= (byte) ((q[i] & 15) << (4 * (g / 2)));
            qh[32 * h + l] |= (byte) ((q[i] >>> 4) << (2 * g));
        }
        dst.put(ql);
        dst.put(qh);
        dst.put(sc);
        dst.putShort(dHalf);
    }

    private static void q8Block(float[] src, int off, ByteBuffer dst) {
        float amax = 0f;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(src[off + j]));
        }
        float d = amax / 127f;
        float id = d != 0f ? 1f / d : 0f;
        dst.putShort(Float16.fromFloat(d));
        for (int j = 0; j < 32; j++) {
            dst.put((byte) Math.round(src[off + j] * id));
        }
    }

    private static void q4Block(float[] src, int off, ByteBuffer dst) {
        // the element of largest magnitude, sign kept, maps to -8
        float d = signedAbsMax(src, off) / -8f;
        float id = d != 0f ? 1f / d : 0f;
        dst.putShort(Float16.fromFloat(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (src[off + j] * id + 8.5f));
            int hi = Math.min(15, (int) (src[off + 16 + j] * id + 8.5f));
            dst.put((byte) (lo | (hi << 4)));
        }
    }
}
