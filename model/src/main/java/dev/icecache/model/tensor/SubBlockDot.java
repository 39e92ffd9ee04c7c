package dev.icecache.model.tensor;

import java.nio.ByteBuffer;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The int8 dot ({@link Q8KDot}) of Q4_K and Q5_K rows, which share their super-block layout but
 * for Q5_K's fifth bits: per super-block, {@code isum = sum_j sc_j * (q_j . x_j)} over the eight
 * 32-element sub-blocks and {@code msum = sum_j m_j * (sum of x_j)} from the activations' partial
 * sums ({@link KQuantScales#addSuperBlock}). The vector kernels stay in the two tensor classes
 * ({@link Q4_KTensor#vectorProducts}, {@link Q5_KTensor#vectorProducts}), written out.
 */
final class SubBlockDot {

    private static final int BLOCK = 256;
    private static final int SCALES = 4;
    private static final int Q4_QS = 16;
    private static final int Q5_QH = 16;
    private static final int Q5_QS = 48;

    // the heap rows' mins (256-bit vectors whatever the machine prefers)
    private static final VectorSpecies<Byte> BYTES_8 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Integer> INTS_8 = IntVector.SPECIES_256;

    private SubBlockDot() {
    }

    /**
     * {@code sum_j m_j * (sum of x_j)} of super-block {@code b} from Q4_K or Q5_K heap rows: its
     * sixteen mins (each sub-block's twice) times the activations' sixteen partial sums, exact in
     * int (a scalar loop over the eight sub-blocks took a third of the Q4_K heap kernel's time).
     */
    static int heapMins(byte[] mins, int b, int[] sums, int so) {
        IntVector m0 = (IntVector) ByteVector.fromArray(BYTES_8, mins, 16 * b).convertShape(VectorOperators.B2I, INTS_8, 0);
        IntVector m1 = (IntVector) ByteVector.fromArray(BYTES_8, mins, 16 * b + 8).convertShape(VectorOperators.B2I, INTS_8, 0);
        return m0.mul(IntVector.fromArray(INTS_8, sums, so)).add(m1.mul(IntVector.fromArray(INTS_8, sums, so + 8)))
                .reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@link #dot} from the heap rows of {@code t} (Q5_K when {@code fiveBits}, else Q4_K): its
     * quants in the type's heap layout and its decoded scales.
     */
    static float heapDot(FloatTensor t, boolean fiveBits, byte[] quants, SubBlockScales decoded, long offset,
                         Q8KActivations x, int xOff, int n) {
        byte[] scales = decoded.scales();
        byte[] mins = decoded.mins();
        float[] supers = decoded.supers();
        x.checkRange(t, offset, xOff, n);
        int b = Math.toIntExact(offset / BLOCK);
        int xb = xOff / BLOCK;
        float sum = 0f;
        for (int end = b + n / BLOCK; b < end; b++, xb++) {
            int isum = fiveBits ? Q5_KTensor.heapProducts(quants, scales, b, x.quants, xb * BLOCK)
                    : Q4_KTensor.heapProducts(quants, scales, b, x.quants, xb * BLOCK);
            int msum = heapMins(mins, b, x.sums, xb * (BLOCK / Q8KActivations.SUM_GROUP));
            // KQuantScales.addSuperBlock's float steps on the decoded scales: the same bits
            float dx = x.scales[xb];
            sum = Math.fma(supers[2 * b] * dx, (float) isum, sum);
            sum = Math.fma(-(supers[2 * b + 1] * dx), (float) msum, sum);
        }
        return sum;
    }

    /** The int8 dot of {@code n} elements of {@code t} (Q5_K when {@code fiveBits}, else Q4_K) at {@code offset}. */
    static float dot(FloatTensor t, ByteBuffer data, boolean fiveBits, long offset, Q8KActivations x, int xOff, int n) {
        x.checkRange(t, offset, xOff, n);
        int blockBytes = t.type().typeSize();
        int block = Math.toIntExact((offset / BLOCK) * blockBytes);
        int xb = xOff / BLOCK;
        float sum = 0f;
        for (int b = 0; b < n / BLOCK; b++, block += blockBytes, xb++) {
            long scales0to7 = data.getLong(block + SCALES);
            int scales8to11 = data.getInt(block + SCALES + 8);
            int isum;
            if (Q8KActivations.INTS == null) {
                isum = scalarProducts(data, fiveBits, block, scales0to7, scales8to11, x, xb);
            } else if (fiveBits) {
                isum = Q5_KTensor.vectorProducts(data, block, scales0to7, scales8to11, x, xb);
            } else {
                isum = Q4_KTensor.vectorProducts(data, block, scales0to7, scales8to11, x, xb);
            }
            sum = KQuantScales.addSuperBlock(sum, data, block, scales0to7, scales8to11, isum, x, xb);
        }
        return sum;
    }

    /** The vector kernels' {@code isum} in scalar code. */
    private static int scalarProducts(ByteBuffer data, boolean fiveBits, int block, long scales0to7, int scales8to11,
                                      Q8KActivations x, int xb) {
        int isum = 0;
        for (int j = 0; j < 8; j++) {
            int qs = block + (fiveBits ? Q5_QS : Q4_QS) + 32 * (j >> 1);
            int shift = 4 * (j & 1);
            int xq = xb * BLOCK + 32 * j;
            int dot = 0;
            for (int l = 0; l < 32; l++) {
                int q = ((data.get(qs + l) & 0xff) >>> shift) & 0x0f;
                if (fiveBits) {
                    q += (((data.get(block + Q5_QH + l) & 0xff) >>> j) & 1) * 16;
                }
                dot += q * x.quants[xq + l];
            }
            isum += KQuantScales.scale(scales0to7, scales8to11, j) * dot;
        }
        return isum;
    }
}
