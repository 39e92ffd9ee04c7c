package dev.icecache.kvcache;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link HeadAttention}'s kernels on the Vector API, bit-identical to its scalar code at every
 * width (see the contract there). The dot keeps the eight lanes of the fixed order: one 256-bit
 * vector, or two 128-bit vectors (lanes 0-3 and 4-7) where 256-bit vectors are missing; the value
 * accumulation is element-wise and runs on the same vectors.
 *
 * <p>NOTE: one species per JVM on the hot path. Vector classes of several widths on the same call
 * sites make the JIT's type profile megamorphic; it then stops inlining the Vector API, and every
 * vector (here and in {@code RankingDotVector}) is boxed on the heap. So production code uses 256
 * bits (128 without them) and the tests that run other widths do so in a child JVM. Loaded only through
 * {@link HeadAttention}, which falls back to scalar code without the {@code jdk.incubator.vector}
 * module.
 */
final class HeadAttentionVector {

    private static final VectorSpecies<Float> EIGHT = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> FOUR = FloatVector.SPECIES_128;
    private static final boolean HAS_EIGHT = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;
    private static final VectorSpecies<Float> WIDE = HAS_EIGHT ? EIGHT : FOUR;

    private HeadAttentionVector() {
    }

    /** True when this JVM compiles at least 128-bit float vectors to hardware instructions. */
    static boolean hardwareSupported() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 128;
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return HAS_EIGHT ? dot8(a, aOff, b, bOff, n) : dot4x2(a, aOff, b, bOff, n);
    }

    /** The 8 lanes as one 256-bit vector. */
    static float dot8(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(EIGHT);
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            acc = acc.add(FloatVector.fromArray(EIGHT, a, aOff + i).mul(FloatVector.fromArray(EIGHT, b, bOff + i)));
        }
        return HeadAttention.finishDot(acc.lane(0), acc.lane(1), acc.lane(2), acc.lane(3), acc.lane(4), acc.lane(5),
                acc.lane(6), acc.lane(7), a, aOff + i, b, bOff + i, n - i);
    }

    /** The 8 lanes as two 128-bit vectors: lanes 0-3 and 4-7. */
    static float dot4x2(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector lo = FloatVector.zero(FOUR);
        FloatVector hi = FloatVector.zero(FOUR);
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            lo = lo.add(FloatVector.fromArray(FOUR, a, aOff + i).mul(FloatVector.fromArray(FOUR, b, bOff + i)));
            hi = hi.add(FloatVector.fromArray(FOUR, a, aOff + i + 4).mul(FloatVector.fromArray(FOUR, b, bOff + i + 4)));
        }
        return HeadAttention.finishDot(lo.lane(0), lo.lane(1), lo.lane(2), lo.lane(3), hi.lane(0), hi.lane(1),
                hi.lane(2), hi.lane(3), a, aOff + i, b, bOff + i, n - i);
    }

    static void accumulate(float w, float[] v, int vOff, float[] out, int outOff, int n) {
        // the species is a constant here, so the JIT compiles vector instructions (no boxing)
        int d = 0;
        for (; d + WIDE.length() <= n; d += WIDE.length()) {
            FloatVector o = FloatVector.fromArray(WIDE, out, outOff + d);
            o.add(FloatVector.fromArray(WIDE, v, vOff + d).mul(w)).intoArray(out, outOff + d);
        }
        HeadAttention.scalarAccumulate(w, v, vOff, out, outOff, n, d);
    }

    /** {@code out[d] += w * v[d]} on vectors of {@code species}: the tests' way to run every width. */
    static void accumulate(VectorSpecies<Float> species, float w, float[] v, int vOff, float[] out, int outOff,
                           int n) {
        int step = species.length();
        int d = 0;
        for (; d + step <= n; d += step) {
            FloatVector o = FloatVector.fromArray(species, out, outOff + d);
            o.add(FloatVector.fromArray(species, v, vOff + d).mul(w)).intoArray(out, outOff + d);
        }
        HeadAttention.scalarAccumulate(w, v, vOff, out, outOff, n, d);
    }
}
