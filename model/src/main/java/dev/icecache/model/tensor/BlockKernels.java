package dev.icecache.model.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * A small static Vector API step the Q5_0 and Q5_1 kernels share. NOTE: C2 inlines it only while
 * its own compiled code stays small; the K-quant kernels write the loop out instead (a call here
 * boxes every vector: seen in JFR on a 1B Q4_K_M model).
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
}
