package dev.icecache.model.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fifth bits of a Q5_0 or Q5_1 block: a little-endian u32 {@code qh} whose bit j belongs to
 * element j (0..31), spread into byte lanes worth 16 or 0.
 */
final class FifthBits {

    private static final VectorSpecies<Byte> BYTES_16 = ByteVector.SPECIES_128;
    // lane k of elements 0..15 reads qh byte k / 8, of elements 16..31 qh byte 2 + k / 8
    private static final VectorShuffle<Byte> LOW_HALF = VectorShuffle.fromValues(BYTES_16,
            0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    private static final VectorShuffle<Byte> HIGH_HALF = VectorShuffle.fromValues(BYTES_16,
            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    private static final ByteVector BIT = ByteVector.fromArray(BYTES_16,
            new byte[] {1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128}, 0);

    private FifthBits() {
    }

    /** Bit j of the u32 at {@code at}, times 16 (scalar reference). */
    static int of(ByteBuffer data, int at, int j) {
        return ((data.getInt(at) >>> j) & 1) << 4;
    }

    /**
     * The 16 bytes at {@code at}, the qh word first (the block must extend 16 bytes past it), for
     * {@link #low} and {@link #high}: one load for both, which keeps the kernels within C2's node
     * budget for inlining.
     */
    static ByteVector load(ByteBuffer data, int at) {
        return ByteVector.fromByteBuffer(BYTES_16, data, at, ByteOrder.LITTLE_ENDIAN);
    }

    /** The fifth bits (16 or 0) of elements 0 .. 15, from {@link #load}'s bytes. */
    static ByteVector low(ByteVector qh) {
        return spread(qh.rearrange(LOW_HALF));
    }

    /** As {@link #low}, for elements 16 .. 31. */
    static ByteVector high(ByteVector qh) {
        return spread(qh.rearrange(HIGH_HALF));
    }

    private static ByteVector spread(ByteVector qhBytes) {
        return ByteVector.zero(BYTES_16).blend((byte) 16, qhBytes.and(BIT).compare(VectorOperators.NE, 0));
    }
}
