package dev.icecache.kvcache.tree;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link RankingDot}'s order on 256-bit vectors: vector lane j is partial sum j, so a lane-wise
 * multiply then add per 8 floats is exactly the scalar kernel's step, and the lanes are then
 * combined in the same pairwise order. Bit-identical to the scalar kernel, only faster. Loaded
 * only through {@link RankingDot}, which falls back to scalar code when the JVM lacks the
 * {@code jdk.incubator.vector} module or 256-bit vectors.
 */
final class RankingDotVector {

    private static final VectorSpecies<Float> EIGHT = FloatVector.SPECIES_256;
    private static final VectorSpecies<Byte> EIGHT_CODES = ByteVector.SPECIES_64;

    private RankingDotVector() {
    }

    /** True when this JVM compiles 256-bit float vectors to hardware instructions (e.g. AVX2). */
    static boolean hardwareSupported() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= EIGHT.vectorBitSize();
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(EIGHT);
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            acc = acc.add(FloatVector.fromArray(EIGHT, a, aOff + i).mul(FloatVector.fromArray(EIGHT, b, bOff + i)));
        }
        return RankingDot.finish(acc.lane(0), acc.lane(1), acc.lane(2), acc.lane(3), acc.lane(4), acc.lane(5),
                acc.lane(6), acc.lane(7), a, aOff + i, b, bOff + i, n - i);
    }

    /**
     * {@link #dot(float[], int, byte[], int, int)} of one query against four rows of codes at
     * {@code c0 .. c3} ({@code n} a multiple of 8): {@code out[o + u]} is row u's dot. The four
     * sums are independent chains, so the CPU overlaps their latency; each keeps the single dot's
     * lanes and order, so the bits are the same. {@code lanes} is 32 floats of scratch.
     */
    static void dot4(float[] a, int aOff, byte[] c, int c0, int c1, int c2, int c3, int n, float[] lanes,
                     float[] out, int o) {
        FloatVector x0 = FloatVector.zero(EIGHT);
        FloatVector x1 = x0;
        FloatVector x2 = x0;
        FloatVector x3 = x0;
        for (int i = 0; i < n; i += 8) {
            FloatVector q = FloatVector.fromArray(EIGHT, a, aOff + i);
            x0 = x0.add(q.mul((FloatVector) ByteVector.fromArray(EIGHT_CODES, c, c0 + i)
                    .convertShape(VectorOperators.B2F, EIGHT, 0)));
            x1 = x1.add(q.mul((FloatVector) ByteVector.fromArray(EIGHT_CODES, c, c1 + i)
                    .convertShape(VectorOperators.B2F, EIGHT, 0)));
            x2 = x2.add(q.mul((FloatVector) ByteVector.fromArray(EIGHT_CODES, c, c2 + i)
                    .convertShape(VectorOperators.B2F, EIGHT, 0)));
            x3 = x3.add(q.mul((FloatVector) ByteVector.fromArray(EIGHT_CODES, c, c3 + i)
                    .convertShape(VectorOperators.B2F, EIGHT, 0)));
        }
        x0.intoArray(lanes, 0);
        x1.intoArray(lanes, 8);
        x2.intoArray(lanes, 16);
        x3.intoArray(lanes, 24);
        for (int u = 0; u < 4; u++) {
            out[o + u] = RankingDot.combine(lanes, 8 * u);
        }
    }

    /** Over int8 codes: 8 codes widened to 8 float lanes (exact), then the same multiply and add. */
    static float dot(float[] a, int aOff, byte[] c, int cOff, int n) {
        FloatVector acc = FloatVector.zero(EIGHT);
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            FloatVector k = (FloatVector) ByteVector.fromArray(EIGHT_CODES, c, cOff + i)
                    .convertShape(VectorOperators.B2F, EIGHT, 0);
            acc = acc.add(FloatVector.fromArray(EIGHT, a, aOff + i).mul(k));
        }
        return RankingDot.finish(acc.lane(0), acc.lane(1), acc.lane(2), acc.lane(3), acc.lane(4), acc.lane(5),
                acc.lane(6), acc.lane(7), a, aOff + i, c, cOff + i, n - i);
    }
}
