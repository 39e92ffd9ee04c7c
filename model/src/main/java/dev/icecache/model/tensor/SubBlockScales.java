package dev.icecache.model.tensor;

import java.nio.ByteBuffer;

/**
 * The decoded scales of a Q4_K or Q5_K tensor's heap rows ({@link HeapRows}), per super-block b:
 * its eight 6-bit sub-block scales at {@code scales[8b ..]}, its eight 6-bit mins each twice (one
 * per sixteen elements, as the activations' partial sums) at {@code mins[16b ..]}, and d, dmin
 * as floats at {@code supers[2b]}, {@code supers[2b+1]}.
 */
record SubBlockScales(byte[] scales, byte[] mins, float[] supers) {

    /** Heap bytes per super-block. */
    static final int BYTES = 8 + 16 + 2 * Float.BYTES;

    /** Room for {@code blocks} super-blocks, filled by {@link #put}. */
    static SubBlockScales allocate(int blocks) {
        return new SubBlockScales(new byte[Math.multiplyExact(blocks, 8)], new byte[Math.multiplyExact(blocks, 16)],
                new float[Math.multiplyExact(blocks, 2)]);
    }

    /** Decodes super-block {@code b}, whose first 16 bytes {@code block} holds (f16 d, f16 dmin, the 12 packed bytes). */
    void put(ByteBuffer block, int b) {
        supers[2 * b] = Float16.lookup(block.getShort(0));
        supers[2 * b + 1] = Float16.lookup(block.getShort(2));
        long scales0to7 = block.getLong(4);
        int scales8to11 = block.getInt(12);
        for (int j = 0; j < 8; j++) {
            scales[8 * b + j] = (byte) KQuantScales.scale(scales0to7, scales8to11, j);
            mins[16 * b + 2 * j] = (byte) KQuantScales.min(scales0to7, scales8to11, j);
            mins[16 * b + 2 * j + 1] = mins[16 * b + 2 * j];
        }
    }

    /** Sub-block j of super-block b's step, {@code d * scale}: the scalar decode's multiplier. */
    float step(int b, int j) {
        return supers[2 * b] * scales[8 * b + j];
    }

    /** Sub-block j of super-block b's shift, {@code dmin * min}: what the scalar decode subtracts. */
    float shift(int b, int j) {
        return supers[2 * b + 1] * mins[16 * b + 2 * j];
    }
}
