package dev.icecache.model.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Small static Vector API steps the Q5_0 and Q5_1 kernels share. NOTE: a call C2 leaves out of line
 * takes and returns boxed vectors (an allocation per block). C2 inlines these only while its own
 * compiled code stays small, and only before the caller's compilation reaches C2's node budget
 * for inlining ({@code NodeCountInliningCutoff}), so callers read their scalars first and keep
 * their bodies short; {@code AllocationFreeDecodeTest} fails on the cutoff. The K-quant kernels
 * write their steps out instead (a call here boxed every vector in JFR on a 1B Q4_K_M model).
 */
final class BlockKernels {

    private static final VectorSpecies<Byte> BYTES_16 = ByteVector.SPECIES_128;
    // DOWN[part]: byte lane part*len+i moved to lane i, so that every part converts from lane 0.
    // A conversion of a later part (convertShape's part argument) is not intrinsified by C2 on
    // JDK 17 below 512 bits: it ran through a slice and a blend in Java, allocating on every
    // block (measured on AVX2: 9 MB per decode step of a small Q5_0 model)
    private static final VectorShuffle<Byte>[] DOWN = downShuffles();

    private BlockKernels() {
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Byte>[] downShuffles() {
        int len = FloatTensor.SPECIES == null ? 16 : FloatTensor.SPECIES.length();
        VectorShuffle<Byte>[] down = new VectorShuffle[16 / len];
        for (int part = 0; part < down.length; part++) {
            int shift = part * len;
            down[part] = VectorShuffle.fromOp(BYTES_16, i -> (i + shift) % 16);
        }
        return down;
    }

    /** acc + lane-wise products of 16 small signed byte values {@code q} with {@code x[xi .. xi+16)}. */
    static FloatVector dot16(ByteVector q, float[] x, int xi, FloatVector acc) {
        int len = FloatTensor.SPECIES.length();
        acc = ((FloatVector) q.convertShape(VectorOperators.B2F, FloatTensor.SPECIES, 0))
                .fma(FloatVector.fromArray(FloatTensor.SPECIES, x, xi), acc);
        for (int part = 1; part < 16 / len; part++) {
            FloatVector w = (FloatVector) q.rearrange(DOWN[part]).convertShape(VectorOperators.B2F, FloatTensor.SPECIES, 0);
            acc = w.fma(FloatVector.fromArray(FloatTensor.SPECIES, x, xi + part * len), acc);
        }
        return acc;
    }

    /**
     * acc + {@code x[xi .. xi+16)} lane-wise: {@link #dot16} with every q = 1, with its bits
     * ({@code fma(1, x, acc)} rounds once, as {@code x + acc} does), in fewer C2 nodes than a
     * byte conversion.
     */
    static FloatVector sum16(float[] x, int xi, FloatVector acc) {
        int len = FloatTensor.SPECIES.length();
        for (int part = 0; part < 16 / len; part++) {
            acc = acc.add(FloatVector.fromArray(FloatTensor.SPECIES, x, xi + part * len));
        }
        return acc;
    }
}
