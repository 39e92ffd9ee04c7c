package dev.icecache.model.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Small static Vector API steps the block kernels of the 5- and 6-bit and K-quant types share
 * (static, so they inline into each type's own loop: no virtual call in the hot path).
 */
final class BlockKernels {

    private BlockKernels() {
    }

    /** acc + lane-wise products of 16 small signed byte values {@code q} with {@code x[xi .. xi+16)}. */
    static FloatVector dot16(ByteVector q, float[] x, int xi, FloatVector acc) {
        int len = FloatTensor.SPECIES.length();
        for (int part = 0; part < 16 / len; part++) {
            FloatVector w = (FloatVector) q.convertShape(VectorOperators.B2F, FloatTensor.SPECIES, part);
            acc = w.fma(FloatVector.fromArray(FloatTensor.SPECIES, x, xi + part * len), acc);
        }
        return acc;
    }

    /**
     * acc + lane-wise products of the weights {@code q * scale + offset} (16 small signed byte
     * values q) with {@code x[xi .. xi+16)}.
     */
    static FloatVector dot16(ByteVector q, FloatVector scale, FloatVector offset, float[] x, int xi, FloatVector acc) {
        int len = FloatTensor.SPECIES.length();
        for (int part = 0; part < 16 / len; part++) {
            FloatVector w = ((FloatVector) q.convertShape(VectorOperators.B2F, FloatTensor.SPECIES, part)).fma(scale, offset);
            acc = w.fma(FloatVector.fromArray(FloatTensor.SPECIES, x, xi + part * len), acc);
        }
        return acc;
    }
}
