package dev.icecache.kvcache.attention;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link BlockAttention}'s Vector API kernels. Scores: one query per lane, eight accumulators (the
 * dot's eight lanes: dimension e goes to accumulator e mod 8, in increasing e), a plain multiply
 * then a plain add per product, combined pairwise: each lane computes exactly the scalar dot.
 * Weighted sums: vectors over dimensions, each element an independent chain in row order.
 *
 * <p>NOTE: 256-bit vectors, the one float species of this library's hot paths (as
 * {@code RankingDotVector}): with 512-bit ones beside them the JIT boxed vectors here (megabytes
 * per attend in {@code PagedKvCacheAllocationTest}); see {@code HeadAttentionVector}. Lanes are
 * queries, so the width changes no result.
 */
final class BlockAttentionVector {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_256;
    private static final int LANES = SPECIES.length();

    private BlockAttentionVector() {
    }

    /** True when this JVM compiles 256-bit float vectors to hardware instructions (e.g. AVX2). */
    static boolean hardwareSupported() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= SPECIES.vectorBitSize();
    }

    static int lanes() {
        return LANES;
    }

    /**
     * s[i*LANES + j] = dot(query j, key i) * scale for rows i &lt; rows; queries transposed in
     * qt[d*LANES + j]; headDim a multiple of 8 (no tail: a vector reassigned under a condition
     * would be boxed by Java 17's C2).
     */
    static void scores(float[] qt, float[] keys, int rows, int headDim, float scale, float[] s) {
        int full = headDim;
        for (int i = 0; i < rows; i++) {
            int k = i * headDim;
            FloatVector a0 = FloatVector.zero(SPECIES);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector a4 = a0;
            FloatVector a5 = a0;
            FloatVector a6 = a0;
            FloatVector a7 = a0;
            for (int e = 0; e < full; e += 8) {
                a0 = a0.add(FloatVector.fromArray(SPECIES, qt, e * LANES).mul(keys[k + e]));
                a1 = a1.add(FloatVector.fromArray(SPECIES, qt, (e + 1) * LANES).mul(keys[k + e + 1]));
                a2 = a2.add(FloatVector.fromArray(SPECIES, qt, (e + 2) * LANES).mul(keys[k + e + 2]));
                a3 = a3.add(FloatVector.fromArray(SPECIES, qt, (e + 3) * LANES).mul(keys[k + e + 3]));
                a4 = a4.add(FloatVector.fromArray(SPECIES, qt, (e + 4) * LANES).mul(keys[k + e + 4]));
                a5 = a5.add(FloatVector.fromArray(SPECIES, qt, (e + 5) * LANES).mul(keys[k + e + 5]));
                a6 = a6.add(FloatVector.fromArray(SPECIES, qt, (e + 6) * LANES).mul(keys[k + e + 6]));
                a7 = a7.add(FloatVector.fromArray(SPECIES, qt, (e + 7) * LANES).mul(keys[k + e + 7]));
            }
            a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).mul(scale).intoArray(s, i * LANES);
        }
    }

    /** {@link BlockAttention#weightedSum} with the dimensions on vectors (four at a time kept in registers). */
    static void weightedSum(float[] s, int j, int lanes, int n, float[] values, int headDim, float[] out,
                            int outOff) {
        int d = 0;
        for (; d + 4 * LANES <= headDim; d += 4 * LANES) {
            FloatVector o0 = FloatVector.zero(SPECIES);
            FloatVector o1 = o0;
            FloatVector o2 = o0;
            FloatVector o3 = o0;
            for (int i = 0; i < n; i++) {
                float w = s[i * lanes + j];
                int vo = i * headDim + d;
                o0 = o0.add(FloatVector.fromArray(SPECIES, values, vo).mul(w));
                o1 = o1.add(FloatVector.fromArray(SPECIES, values, vo + LANES).mul(w));
                o2 = o2.add(FloatVector.fromArray(SPECIES, values, vo + 2 * LANES).mul(w));
                o3 = o3.add(FloatVector.fromArray(SPECIES, values, vo + 3 * LANES).mul(w));
            }
            o0.intoArray(out, outOff + d);
            o1.intoArray(out, outOff + d + LANES);
            o2.intoArray(out, outOff + d + 2 * LANES);
            o3.intoArray(out, outOff + d + 3 * LANES);
        }
        for (; d + LANES <= headDim; d += LANES) {
            FloatVector o = FloatVector.zero(SPECIES);
            for (int i = 0; i < n; i++) {
                o = o.add(FloatVector.fromArray(SPECIES, values, i * headDim + d).mul(s[i * lanes + j]));
            }
            o.intoArray(out, outOff + d);
        }
        if (d < headDim) {
            BlockAttention.weightedSum(s, j, lanes, n, values, headDim, out, outOff, d);
        }
    }
}
