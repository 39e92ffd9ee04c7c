package dev.icecache.kvcache.attention;

import dev.icecache.kvcache.SoftmaxExp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link BlockAttention}'s two inner products on the Vector API, for four queries at a time, with
 * the accumulators held in registers (the JIT's own vectorization of the scalar loops loads and
 * stores an accumulator per multiply-add, and gave up on bodies with more than about eight
 * loop-invariant scalars). Every output keeps the scalar kernel's order, a plain multiply then a
 * plain add per term, and vector lanes never mix: the same bits at every vector width.
 *
 * <pre>
 *   quadLanes:  lanes[u][l][r]  = 0 + q_u[l] k_r[l] + q_u[l+8] k_r[l+8] + ...   (rows r in vector lanes)
 *   quadValues: out_u[d]       = 0 + w_u[0] v_0[d] + w_u[1] v_1[d] + ...        (dimensions d in vector lanes)
 * </pre>
 *
 * <p>NOTE: scalars enter as {@code FloatVector.broadcast(S, x)}, never as {@code v.mul(x)}, and
 * accumulators never merge two vectors in a conditional: in the engine C2 (JDK 17) boxed every
 * vector of either form on the heap (allocation samples under {@code FloatVector.mul(float)}),
 * 3x slower than the scalar loops, while a small harness ran them allocation-free. The species is
 * the preferred one, the model's float kernels' too (512 bits here); a second float width on the
 * engine's hot path once made the JIT box vectors (see {@code HeadAttention}). At C2's default
 * {@code -XX:PerMethodTrapLimit} (100) the stores of the last two accumulators lost their intrinsic
 * in about half of all JVMs, boxing those accumulators; the engine's JVMs raise it (the model
 * module's {@code JavaRuntime} explains). Loaded only through
 * {@link BlockAttention}, which keeps its scalar code when the JVM lacks the
 * {@code jdk.incubator.vector} module.
 */
final class BlockAttentionVector {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /** As many shorts as {@link #S} has floats: one vector of BF16 bits widens to one float vector. */
    private static final VectorSpecies<Short> BITS = VectorSpecies.of(short.class,
            VectorShape.forBitSize(S.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, S.vectorShape());

    private BlockAttentionVector() {
    }

    /** True when this JVM compiles float vectors of at least 128 bits that tile a chunk of {@code chunk} rows. */
    static boolean hardwareSupported(int chunk) {
        return S.vectorBitSize() >= 128 && chunk % (2 * V) == 0;
    }

    /**
     * The dot's eight lanes of four queries (at {@code q[qa]}, {@code q[qb]}, {@code q[qc]},
     * {@code q[qd]}) for rows {@code 0 .. m} of a chunk of transposed keys ({@code kt[e][r]}), rounded
     * up to whole pairs of vectors (the chunk's arrays are long enough; the extra rows are never
     * read): {@code lanes[u][l][r]}. Lane l adds dimensions l, l+8, ... in increasing order.
     */
    static void quadLanes(float[] q, int qa, int qb, int qc, int qd, float[][] kt, int m, int headDim,
                          float[][][] lanes) {
        for (int r = 0; r < m; r += 2 * V) {
            for (int l = 0; l < 8; l++) { // a lane without dimensions (head size < 8) stores 0, as HeadAttention adds
                FloatVector a0 = FloatVector.zero(S);
                FloatVector a1 = a0;
                FloatVector b0 = a0;
                FloatVector b1 = a0;
                FloatVector c0 = a0;
                FloatVector c1 = a0;
                FloatVector d0 = a0;
                FloatVector d1 = a0;
                for (int e = l; e < headDim; e += 8) {
                    float[] k = kt[e];
                    FloatVector k0 = FloatVector.fromArray(S, k, r);
                    FloatVector k1 = FloatVector.fromArray(S, k, r + V);
                    FloatVector x = FloatVector.broadcast(S, q[qa + e]);
                    a0 = a0.add(k0.mul(x));
                    a1 = a1.add(k1.mul(x));
                    x = FloatVector.broadcast(S, q[qb + e]);
                    b0 = b0.add(k0.mul(x));
                    b1 = b1.add(k1.mul(x));
                    x = FloatVector.broadcast(S, q[qc + e]);
                    c0 = c0.add(k0.mul(x));
                    c1 = c1.add(k1.mul(x));
                    x = FloatVector.broadcast(S, q[qd + e]);
                    d0 = d0.add(k0.mul(x));
                    d1 = d1.add(k1.mul(x));
                }
                a0.intoArray(lanes[0][l], r);
                a1.intoArray(lanes[0][l], r + V);
                b0.intoArray(lanes[1][l], r);
                b1.intoArray(lanes[1][l], r + V);
                c0.intoArray(lanes[2][l], r);
                c1.intoArray(lanes[2][l], r + V);
                d0.intoArray(lanes[3][l], r);
                d1.intoArray(lanes[3][l], r + V);
            }
        }
    }

    /**
     * {@link #quadLanes} for the six queries at {@code q[qAt[j]] .. q[qAt[j + 5]]}: twelve
     * accumulators, so each pair of key vectors loaded serves six queries instead of four (about
     * 1.1x the dot rate on AVX2, BENCHMARKS.md). Each query's lanes are those of quadLanes: the same
     * bits. {@code lanes} has at least six queries.
     */
    static void hexLanes(float[] q, int[] qAt, int j, float[][] kt, int m, int headDim, float[][][] lanes) {
        int qa = qAt[j];
        int qb = qAt[j + 1];
        int qc = qAt[j + 2];
        int qd = qAt[j + 3];
        int qe = qAt[j + 4];
        int qf = qAt[j + 5];
        for (int r = 0; r < m; r += 2 * V) {
            for (int l = 0; l < 8; l++) {
                FloatVector a0 = FloatVector.zero(S);
                FloatVector a1 = a0;
                FloatVector b0 = a0;
                FloatVector b1 = a0;
                FloatVector c0 = a0;
                FloatVector c1 = a0;
                FloatVector d0 = a0;
                FloatVector d1 = a0;
                FloatVector e0 = a0;
                FloatVector e1 = a0;
                FloatVector f0 = a0;
                FloatVector f1 = a0;
                for (int e = l; e < headDim; e += 8) {
                    float[] k = kt[e];
                    FloatVector k0 = FloatVector.fromArray(S, k, r);
                    FloatVector k1 = FloatVector.fromArray(S, k, r + V);
                    FloatVector x = FloatVector.broadcast(S, q[qa + e]);
                    a0 = a0.add(k0.mul(x));
                    a1 = a1.add(k1.mul(x));
                    x = FloatVector.broadcast(S, q[qb + e]);
                    b0 = b0.add(k0.mul(x));
                    b1 = b1.add(k1.mul(x));
                    x = FloatVector.broadcast(S, q[qc + e]);
                    c0 = c0.add(k0.mul(x));
                    c1 = c1.add(k1.mul(x));
                    x = FloatVector.broadcast(S, q[qd + e]);
                    d0 = d0.add(k0.mul(x));
                    d1 = d1.add(k1.mul(x));
                    x = FloatVector.broadcast(S, q[qe + e]);
                    e0 = e0.add(k0.mul(x));
                    e1 = e1.add(k1.mul(x));
                    x = FloatVector.broadcast(S, q[qf + e]);
                    f0 = f0.add(k0.mul(x));
                    f1 = f1.add(k1.mul(x));
                }
                a0.intoArray(lanes[0][l], r);
                a1.intoArray(lanes[0][l], r + V);
                b0.intoArray(lanes[1][l], r);
                b1.intoArray(lanes[1][l], r + V);
                c0.intoArray(lanes[2][l], r);
                c1.intoArray(lanes[2][l], r + V);
                d0.intoArray(lanes[3][l], r);
                d1.intoArray(lanes[3][l], r + V);
                e0.intoArray(lanes[4][l], r);
                e1.intoArray(lanes[4][l], r + V);
                f0.intoArray(lanes[5][l], r);
                f1.intoArray(lanes[5][l], r + V);
            }
        }
    }

    /**
     * {@code out[o_u + d] += w_u,from v_from[d] + ... + w_u,to-1 v_to-1[d]} in row order, for four
     * queries u whose weights are at {@code s[sa + i]} .. {@code s[sd + i]}, and the dimensions
     * {@code d} that fill whole pairs of vectors.
     *
     * @return the first dimension not written (the caller adds the rest)
     */
    static int quadValues(float[] s, int sa, int sb, int sc, int sd, int from, int to, float[] values,
                          int headDim, float[] out, int oa, int ob, int oc, int od) {
        int d = 0;
        for (; d + 2 * V <= headDim; d += 2 * V) {
            // the accumulators start from out, which the caller zeroes (see the class comment)
            FloatVector a0 = FloatVector.fromArray(S, out, oa + d);
            FloatVector a1 = FloatVector.fromArray(S, out, oa + d + V);
            FloatVector b0 = FloatVector.fromArray(S, out, ob + d);
            FloatVector b1 = FloatVector.fromArray(S, out, ob + d + V);
            FloatVector c0 = FloatVector.fromArray(S, out, oc + d);
            FloatVector c1 = FloatVector.fromArray(S, out, oc + d + V);
            FloatVector d0 = FloatVector.fromArray(S, out, od + d);
            FloatVector d1 = FloatVector.fromArray(S, out, od + d + V);
            for (int i = from, vo = from * headDim + d; i < to; i++, vo += headDim) {
                FloatVector v0 = FloatVector.fromArray(S, values, vo);
                FloatVector v1 = FloatVector.fromArray(S, values, vo + V);
                FloatVector w = FloatVector.broadcast(S, s[sa + i]);
                a0 = a0.add(v0.mul(w));
                a1 = a1.add(v1.mul(w));
                w = FloatVector.broadcast(S, s[sb + i]);
                b0 = b0.add(v0.mul(w));
                b1 = b1.add(v1.mul(w));
                w = FloatVector.broadcast(S, s[sc + i]);
                c0 = c0.add(v0.mul(w));
                c1 = c1.add(v1.mul(w));
                w = FloatVector.broadcast(S, s[sd + i]);
                d0 = d0.add(v0.mul(w));
                d1 = d1.add(v1.mul(w));
            }
            a0.intoArray(out, oa + d);
            a1.intoArray(out, oa + d + V);
            b0.intoArray(out, ob + d);
            b1.intoArray(out, ob + d + V);
            c0.intoArray(out, oc + d);
            c1.intoArray(out, oc + d + V);
            d0.intoArray(out, od + d);
            d1.intoArray(out, od + d + V);
        }
        return d;
    }

    /** Whether {@link #softmax} runs here: the sum's sixteen lanes are one or two vectors. */
    static boolean softmaxSupported() {
        return V == 16 || V == 8;
    }

    /**
     * {@link dev.icecache.kvcache.HeadAttention#softmax} of {@code att[from .. from+n)} with the
     * same bits: the maximum (order-free), then per element {@link SoftmaxExp#exp}'s float operations
     * lane by lane, then {@link SoftmaxExp#sum}'s sixteen partial sums (lane j of the sum is vector
     * lane j, or lane j - 8 of the second vector at 256 bits), then each element times 1 / sum.
     * {@code lanes} is sixteen floats of scratch. NOTE: four loops, one exponential per vector: with
     * two exponentials and the sum in one loop, the 256-bit compile passed C2's inlining node budget
     * ({@code AllocationFreeDecodeTest}).
     */
    static void softmax(float[] att, int from, int n, float[] lanes) {
        int end = from + n;
        float max = max(att, from, end);
        FloatVector mx = FloatVector.broadcast(S, max);
        int i = from;
        for (; i + V <= end; i += V) {
            expMinus(FloatVector.fromArray(S, att, i), mx).intoArray(att, i);
        }
        for (; i < end; i++) {
            att[i] = SoftmaxExp.exp(att[i] - max);
        }
        float inv = 1f / sum(att, from, end, lanes);
        FloatVector iv = FloatVector.broadcast(S, inv);
        i = from;
        for (; i + V <= end; i += V) {
            FloatVector.fromArray(S, att, i).mul(iv).intoArray(att, i);
        }
        for (; i < end; i++) {
            att[i] = att[i] * inv;
        }
    }

    /** The largest of {@code att[from .. end)}: vector lanes, then the rest (a maximum does not depend on its order). */
    private static float max(float[] att, int from, int end) {
        FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = from;
        for (; i + V <= end; i += V) {
            mv = mv.max(FloatVector.fromArray(S, att, i));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < end; i++) {
            max = att[i] > max ? att[i] : max;
        }
        return max;
    }

    /** {@link SoftmaxExp#sum} of {@code a[from .. end)}: its sixteen lanes in one or two vectors, then its tail and fold. */
    private static float sum(float[] a, int from, int end, float[] lanes) {
        FloatVector lo = FloatVector.zero(S);
        FloatVector hi = lo;
        int i = from;
        if (V == 16) {
            for (; i + 16 <= end; i += 16) {
                lo = lo.add(FloatVector.fromArray(S, a, i));
            }
        } else {
            for (; i + 16 <= end; i += 16) {
                lo = lo.add(FloatVector.fromArray(S, a, i));
                hi = hi.add(FloatVector.fromArray(S, a, i + 8));
            }
            hi.intoArray(lanes, 8);
        }
        lo.intoArray(lanes, 0);
        // the last n % 16 values to lanes 0 .. n % 16 - 1, as SoftmaxExp.sum adds them
        for (int j = 0; i < end; i++, j++) {
            lanes[j] += a[i];
        }
        return (((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7])))
                + (((lanes[8] + lanes[9]) + (lanes[10] + lanes[11])) + ((lanes[12] + lanes[13]) + (lanes[14] + lanes[15])));
    }

    /** e^(x - max) lane by lane, in {@link SoftmaxExp#exp}'s float operations and order. */
    private static FloatVector expMinus(FloatVector x, FloatVector max) {
        FloatVector a = x.sub(max).max(FloatVector.broadcast(S, SoftmaxExp.LOWEST));
        FloatVector t = a.mul(FloatVector.broadcast(S, SoftmaxExp.LOG2E)).add(FloatVector.broadcast(S, SoftmaxExp.ROUNDER));
        FloatVector k = t.sub(FloatVector.broadcast(S, SoftmaxExp.ROUNDER));
        FloatVector r = a.sub(k.mul(FloatVector.broadcast(S, SoftmaxExp.C1))).sub(k.mul(FloatVector.broadcast(S, SoftmaxExp.C2)));
        FloatVector p = r.mul(FloatVector.broadcast(S, SoftmaxExp.P0)).add(FloatVector.broadcast(S, SoftmaxExp.P1));
        p = p.mul(r).add(FloatVector.broadcast(S, SoftmaxExp.P2));
        p = p.mul(r).add(FloatVector.broadcast(S, SoftmaxExp.P3));
        p = p.mul(r).add(FloatVector.broadcast(S, SoftmaxExp.P4));
        p = p.mul(r).add(FloatVector.broadcast(S, SoftmaxExp.P5));
        FloatVector e = p.mul(r.mul(r)).add(r).add(FloatVector.broadcast(S, 1f));
        FloatVector pow2 = ((IntVector) t.reinterpretAsInts()).add(SoftmaxExp.BIAS).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return e.mul(pow2);
    }

    /**
     * {@code out[outOff + i] = } the float of BF16 bits {@code bits[from + i]} for the whole vectors
     * of i &lt; n: each short sign-extended to an int, shifted 16 bits left (which drops the
     * extension), read as a float: exact, as {@code PageFormat.widen}.
     *
     * @return the first i not written (the caller widens the rest)
     */
    static int widen(short[] bits, int from, int n, float[] out, int outOff) {
        int i = 0;
        for (; i + V <= n; i += V) {
            ((IntVector) ShortVector.fromArray(BITS, bits, from + i).convertShape(VectorOperators.S2I, INTS, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, outOff + i);
        }
        return i;
    }

    /**
     * {@code s[at + r] = (((a0+a1)+(a2+a3))+((a4+a5)+(a6+a7)))[r] * scale} for rows {@code 0 .. m-1}
     * of {@link #quadLanes}' lanes of one query: whole vectors, the rest as the scalar kernel does.
     */
    static void combineLanes(float[][] lanes, int m, float scale, float[] s, int at) {
        float[] l0 = lanes[0];
        float[] l1 = lanes[1];
        float[] l2 = lanes[2];
        float[] l3 = lanes[3];
        float[] l4 = lanes[4];
        float[] l5 = lanes[5];
        float[] l6 = lanes[6];
        float[] l7 = lanes[7];
        FloatVector sc = FloatVector.broadcast(S, scale);
        int r = 0;
        for (; r + V <= m; r += V) {
            FloatVector low = FloatVector.fromArray(S, l0, r).add(FloatVector.fromArray(S, l1, r))
                    .add(FloatVector.fromArray(S, l2, r).add(FloatVector.fromArray(S, l3, r)));
            FloatVector high = FloatVector.fromArray(S, l4, r).add(FloatVector.fromArray(S, l5, r))
                    .add(FloatVector.fromArray(S, l6, r).add(FloatVector.fromArray(S, l7, r)));
            low.add(high).mul(sc).intoArray(s, at + r);
        }
        BlockAttention.combineLanes(lanes, r, m, scale, s, at);
    }
}
