package dev.icecache.model.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float dot products whose bits do not depend on the machine's vector width, so a document
 * restored on a TaskManager with other vector hardware continues with the same tokens (the
 * same idea as kvcache's {@code RankingDot}, with sixteen lanes and fused multiply-adds):
 *
 * <pre>
 *   m      = n rounded down to a multiple of 16
 *   L[j]   = fma chain over i = j, j+16, j+32, ... &lt; m, in increasing i, from 0   (j = 0..15)
 *            (L[j] = fma(a[i], b[i], L[j]))
 *   fold   : for k = 8, 4, 2, 1:  L[j] = L[j] + L[j+k]  for j &lt; k       (dot = L[0])
 *   tail   : for i = m .. n-1:    dot = fma(a[i], b[i], dot)
 * </pre>
 *
 * A 512-bit species holds the sixteen lanes in one register; narrower species run the sweep
 * once per part of their lane count (stride 16), so 128-, 256- and 512-bit species and the scalar
 * code give identical bits. The batched kernel
 * {@link #dot4x4} (the register tile of a prefill on F32, F16 and BF16 weights) gives exactly the
 * bits of {@link #dot} for each of its sixteen products, so a prefill and a decode of the same rows
 * of those weights agree bit for bit. Quantized weights prefill on {@link PanelTile}, in another
 * order that is just as independent of the width.
 */
public final class FixedLaneDot {

    /** Lanes of the fixed accumulation order. */
    public static final int LANES = 16;
    /** Floats of scratch {@link #dot4x4} needs. */
    public static final int TILE_SCRATCH = 16 * LANES;

    static final VectorSpecies<Float> SPECIES = FloatTensor.SPECIES;
    /** Vector lanes per part, and sweeps per dot. */
    static final int LEN = SPECIES == null ? LANES : SPECIES.length();
    static final int PARTS = LANES / LEN;

    // lane j+k moved to lane j: the fold's steps on a 512-bit vector that holds all sixteen lanes
    // (lanes j < k of v + v.rearrange(DOWN_k) are L[j] + L[j+k]); null below 512 bits
    static final VectorShuffle<Float> DOWN_8 = down(8);
    static final VectorShuffle<Float> DOWN_4 = down(4);
    static final VectorShuffle<Float> DOWN_2 = down(2);
    static final VectorShuffle<Float> DOWN_1 = down(1);

    private FixedLaneDot() {
    }

    private static VectorShuffle<Float> down(int k) {
        return PARTS != 1 || SPECIES == null ? null : VectorShuffle.fromOp(SPECIES, j -> (j + k) % LANES);
    }

    /** The dot product of {@code a[aOff..aOff+n)} and {@code b[bOff..bOff+n)} in the order of the class comment. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        if (SPECIES == null) {
            return scalarDot(a, aOff, b, bOff, n);
        }
        int m = n & -LANES;
        float[] lanes = lanes();
        for (int p = 0; p < PARTS; p++) {
            int ap = aOff + p * LEN;
            int bp = bOff + p * LEN;
            FloatVector acc = FloatVector.zero(SPECIES);
            for (int i = 0; i < m; i += LANES) {
                acc = FloatVector.fromArray(SPECIES, a, ap + i).fma(FloatVector.fromArray(SPECIES, b, bp + i), acc);
            }
            acc.intoArray(lanes, p * LEN);
        }
        return tail(fold(lanes, 0), a, aOff, b, bOff, m, n);
    }

    /**
     * This thread's sixteen lanes of scratch: the vector kernels store each part's lanes here and
     * fold them in scalar code, so no vector crosses a call that C2 might not inline (a vector
     * passed or returned across such a call is boxed: an allocation per dot).
     */
    static float[] lanes() {
        return LANES_SCRATCH.get();
    }

    /** {@link #lanes()} set to zero, for the scalar kernels. */
    static float[] zeroLanes() {
        float[] lanes = LANES_SCRATCH.get();
        java.util.Arrays.fill(lanes, 0f);
        return lanes;
    }

    private static final ThreadLocal<float[]> LANES_SCRATCH = ThreadLocal.withInitial(() -> new float[LANES]);

    /**
     * The scalar fold of sixteen lanes at {@code lanes[off..off+16)}: lane j plus lane j+8, then
     * the same with 4, 2 and 1. Written out (no stores back, one range check): it runs once per
     * row of every product (4.9% of a Q8_0 decode's samples as a loop on AVX2).
     */
    static float fold(float[] lanes, int off) {
        java.util.Objects.checkFromIndexSize(off, LANES, lanes.length);
        float a0 = lanes[off] + lanes[off + 8];
        float a1 = lanes[off + 1] + lanes[off + 9];
        float a2 = lanes[off + 2] + lanes[off + 10];
        float a3 = lanes[off + 3] + lanes[off + 11];
        float a4 = lanes[off + 4] + lanes[off + 12];
        float a5 = lanes[off + 5] + lanes[off + 13];
        float a6 = lanes[off + 6] + lanes[off + 14];
        float a7 = lanes[off + 7] + lanes[off + 15];
        float b0 = a0 + a4;
        float b1 = a1 + a5;
        float b2 = a2 + a6;
        float b3 = a3 + a7;
        return (b0 + b2) + (b1 + b3);
    }

    static float tail(float sum, float[] a, int aOff, float[] b, int bOff, int from, int n) {
        for (int i = from; i < n; i++) {
            sum = Math.fma(a[aOff + i], b[bOff + i], sum);
        }
        return sum;
    }

    /** The reference: the order of the class comment in scalar code. */
    public static float scalarDot(float[] a, int aOff, float[] b, int bOff, int n) {
        float[] lanes = zeroLanes();
        int m = n & -LANES;
        for (int i = 0; i < m; i++) {
            lanes[i % LANES] = Math.fma(a[aOff + i], b[bOff + i], lanes[i % LANES]);
        }
        return tail(fold(lanes, 0), a, aOff, b, bOff, m, n);
    }

    /**
     * Sixteen dot products of four rows with four vectors, each row and vector chunk loaded once
     * per step (the register tile of batched products): for j, k in 0..3,
     * {@code out[outOff + k*outStride + j] = dot(a[aOff + j*aStride ..+n), x[xOff + k*xStride ..+n))},
     * bit for bit {@link #dot}.
     *
     * @param scratch at least {@link #TILE_SCRATCH} floats, overwritten
     */
    public static void dot4x4(float[] a, int aOff, int aStride, float[] x, int xOff, int xStride, int n,
                              float[] out, int outOff, int outStride, float[] scratch) {
        int m = n & -LANES;
        if (SPECIES == null) {
            for (int j = 0; j < 4; j++) {
                for (int k = 0; k < 4; k++) {
                    out[outOff + k * outStride + j] = scalarDot(a, aOff + j * aStride, x, xOff + k * xStride, n);
                }
            }
            return;
        }
        if (PARTS == 2) {
            // 256-bit vectors (AVX2, 16 registers): four 2x2 quarters with both halves of the lanes
            // in one sweep (eight chains): 1.2x the 4x4 tile's rate in a one-thread harness on an
            // AVX2 machine (BENCHMARKS.md), whose sixteen chains plus five operands outnumber the
            // registers and whose halves sweep the rows twice
            pairTile(a, aOff, aStride, x, xOff, xStride, m, scratch, 0);
            pairTile(a, aOff, aStride, x, xOff + 2 * xStride, xStride, m, scratch, 2 * LANES);
            pairTile(a, aOff + 2 * aStride, aStride, x, xOff, xStride, m, scratch, 8 * LANES);
            pairTile(a, aOff + 2 * aStride, aStride, x, xOff + 2 * xStride, xStride, m, scratch, 10 * LANES);
        } else {
            for (int p = 0; p < PARTS; p++) {
                tilePart(a, aOff + p * LEN, aStride, x, xOff + p * LEN, xStride, m, scratch, p * LEN);
            }
        }
        for (int j = 0; j < 4; j++) {
            for (int k = 0; k < 4; k++) {
                int lanes = (j * 4 + k) * LANES;
                out[outOff + k * outStride + j] = tail(fold(scratch, lanes), a, aOff + j * aStride, x, xOff + k * xStride, m, n);
            }
        }
    }

    /** One part of the 4x4 tile: sixteen fma chains, stored as lanes {@code lane ..} of each product's sixteen. */
    private static void tilePart(float[] a, int aOff, int aStride, float[] x, int xOff, int xStride, int m,
                                 float[] scratch, int lane) {
        FloatVector c00 = FloatVector.zero(SPECIES);
        FloatVector c01 = c00;
        FloatVector c02 = c00;
        FloatVector c03 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c12 = c00;
        FloatVector c13 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c22 = c00;
        FloatVector c23 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c32 = c00;
        FloatVector c33 = c00;
        int a1 = aOff + aStride;
        int a2 = a1 + aStride;
        int a3 = a2 + aStride;
        int x1 = xOff + xStride;
        int x2 = x1 + xStride;
        int x3 = x2 + xStride;
        for (int i = 0; i < m; i += LANES) {
            FloatVector w0 = FloatVector.fromArray(SPECIES, a, aOff + i);
            FloatVector w1 = FloatVector.fromArray(SPECIES, a, a1 + i);
            FloatVector w2 = FloatVector.fromArray(SPECIES, a, a2 + i);
            FloatVector w3 = FloatVector.fromArray(SPECIES, a, a3 + i);
            FloatVector v = FloatVector.fromArray(SPECIES, x, xOff + i);
            c00 = w0.fma(v, c00);
            c10 = w1.fma(v, c10);
            c20 = w2.fma(v, c20);
            c30 = w3.fma(v, c30);
            v = FloatVector.fromArray(SPECIES, x, x1 + i);
            c01 = w0.fma(v, c01);
            c11 = w1.fma(v, c11);
            c21 = w2.fma(v, c21);
            c31 = w3.fma(v, c31);
            v = FloatVector.fromArray(SPECIES, x, x2 + i);
            c02 = w0.fma(v, c02);
            c12 = w1.fma(v, c12);
            c22 = w2.fma(v, c22);
            c32 = w3.fma(v, c32);
            v = FloatVector.fromArray(SPECIES, x, x3 + i);
            c03 = w0.fma(v, c03);
            c13 = w1.fma(v, c13);
            c23 = w2.fma(v, c23);
            c33 = w3.fma(v, c33);
        }
        // scratch holds product (j, k) at ((j * 4 + k) * 16 + lane)
        c00.intoArray(scratch, lane);
        c01.intoArray(scratch, LANES + lane);
        c02.intoArray(scratch, 2 * LANES + lane);
        c03.intoArray(scratch, 3 * LANES + lane);
        c10.intoArray(scratch, 4 * LANES + lane);
        c11.intoArray(scratch, 5 * LANES + lane);
        c12.intoArray(scratch, 6 * LANES + lane);
        c13.intoArray(scratch, 7 * LANES + lane);
        c20.intoArray(scratch, 8 * LANES + lane);
        c21.intoArray(scratch, 9 * LANES + lane);
        c22.intoArray(scratch, 10 * LANES + lane);
        c23.intoArray(scratch, 11 * LANES + lane);
        c30.intoArray(scratch, 12 * LANES + lane);
        c31.intoArray(scratch, 13 * LANES + lane);
        c32.intoArray(scratch, 14 * LANES + lane);
        c33.intoArray(scratch, 15 * LANES + lane);
    }

    /**
     * Rows 0-1 from {@code aOff} times vectors 0-1 from {@code xOff}, for two parts of {@link #LEN}
     * lanes (256-bit vectors): eight fma chains in {@link #tilePart}'s order, so the same bits,
     * stored in its scratch layout from {@code scratch[base]} (product (0, 0)).
     */
    private static void pairTile(float[] a, int aOff, int aStride, float[] x, int xOff, int xStride, int m,
                                 float[] scratch, int base) {
        FloatVector p00 = FloatVector.zero(SPECIES);
        FloatVector p01 = p00;
        FloatVector p10 = p00;
        FloatVector p11 = p00;
        FloatVector q00 = p00;
        FloatVector q01 = p00;
        FloatVector q10 = p00;
        FloatVector q11 = p00;
        int a1 = aOff + aStride;
        int x1 = xOff + xStride;
        for (int i = 0; i < m; i += LANES) {
            FloatVector w0 = FloatVector.fromArray(SPECIES, a, aOff + i);
            FloatVector w1 = FloatVector.fromArray(SPECIES, a, a1 + i);
            FloatVector u0 = FloatVector.fromArray(SPECIES, a, aOff + i + LEN);
            FloatVector u1 = FloatVector.fromArray(SPECIES, a, a1 + i + LEN);
            FloatVector v = FloatVector.fromArray(SPECIES, x, xOff + i);
            p00 = w0.fma(v, p00);
            p10 = w1.fma(v, p10);
            v = FloatVector.fromArray(SPECIES, x, x1 + i);
            p01 = w0.fma(v, p01);
            p11 = w1.fma(v, p11);
            v = FloatVector.fromArray(SPECIES, x, xOff + i + LEN);
            q00 = u0.fma(v, q00);
            q10 = u1.fma(v, q10);
            v = FloatVector.fromArray(SPECIES, x, x1 + i + LEN);
            q01 = u0.fma(v, q01);
            q11 = u1.fma(v, q11);
        }
        p00.intoArray(scratch, base);
        q00.intoArray(scratch, base + LEN);
        p01.intoArray(scratch, base + LANES);
        q01.intoArray(scratch, base + LANES + LEN);
        p10.intoArray(scratch, base + 4 * LANES);
        q10.intoArray(scratch, base + 4 * LANES + LEN);
        p11.intoArray(scratch, base + 5 * LANES);
        q11.intoArray(scratch, base + 5 * LANES + LEN);
    }
}
