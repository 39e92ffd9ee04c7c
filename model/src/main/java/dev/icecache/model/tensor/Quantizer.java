package dev.icecache.model.tensor;

import java.nio.ByteBuffer;

/**
 * Encodes floats into a ggml format, as ggml's reference quantizers do
 * ({@code quantize_row_q8_0_ref}, {@code quantize_row_q4_0_ref}): the inverse of
 * {@link FloatTensor#getFloat} up to quantization error.
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
        }
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
        float max = 0f;
        float amax = 0f;
        for (int j = 0; j < 32; j++) {
            float v = src[off + j];
            if (Math.abs(v) > amax) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8f;
        float id = d != 0f ? 1f / d : 0f;
        dst.putShort(Float16.fromFloat(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (src[off + j] * id + 8.5f));
            int hi = Math.min(15, (int) (src[off + 16 + j] * id + 8.5f));
            dst.put((byte) (lo | (hi << 4)));
        }
    }
}
