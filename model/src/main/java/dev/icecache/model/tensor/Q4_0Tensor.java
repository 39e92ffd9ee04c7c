package dev.icecache.model.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A Q4_0 tensor: blocks of 32 elements, each an f16 scale d followed by 16 bytes; byte j holds
 * element j in its low nibble and element j+16 in its high nibble; element = d * (nibble - 8).
 */
public final class Q4_0Tensor extends FloatTensor {

    private static final int BLOCK = 32;
    private static final int BLOCK_BYTES = 18;
    private static final VectorSpecies<Byte> BYTES_16 = ByteVector.SPECIES_128;

    Q4_0Tensor(String name, ByteBuffer data, long size) {
        super(name, data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public float getFloat(long index) {
        int block = Math.toIntExact((index / BLOCK) * BLOCK_BYTES);
        float scale = Float16.toFloat(data.getShort(block));
        int j = (int) (index % BLOCK);
        int packed = data.get(block + 2 + (j & 15)) & 0xff;
        int nibble = j < 16 ? packed & 0x0f : packed >>> 4;
        return (nibble - 8) * scale;
    }

    @Override
    public void copyTo(long offset, float[] dst, int dstOff, int n) {
        if (offset % BLOCK != 0 || n % BLOCK != 0) {
            super.copyTo(offset, dst, dstOff, n);
            return;
        }
        int block = Math.toIntExact((offset / BLOCK) * BLOCK_BYTES);
        for (int i = 0; i < n; i += BLOCK, block += BLOCK_BYTES) {
            float scale = Float16.toFloat(data.getShort(block));
            for (int j = 0; j < 16; j++) {
                int packed = data.get(block + 2 + j) & 0xff;
                dst[dstOff + i + j] = ((packed & 0x0f) - 8) * scale;
                dst[dstOff + i + j + 16] = ((packed >>> 4) - 8) * scale;
            }
        }
    }

    // NOTE: Q4_0Tensor and Q8_0Tensor share the shape of vectorDot (two blocks per iteration,
    // two accumulators) on purpose and differ in blockDot and the block size. A shared base
    // class would call blockDot virtually inside the hot loop; with both types in one model the
    // call site turns bimorphic and C2 stops keeping the vectors in registers (the boxing seen
    // while tuning: every decode step then allocates). Keep the two in step by hand.
    @Override
    float vectorDot(long offset, float[] x, int xOff, int n) {
        int head = headBeforeBlock(offset, n, BLOCK);
        int blocks = (n - head) / BLOCK;
        float sum = scalarEnds(offset, x, xOff, n, head, blocks * BLOCK);
        int xi = xOff + head;
        int block = Math.toIntExact(((offset + head) / BLOCK) * BLOCK_BYTES);
        // two blocks per iteration into two accumulators, so consecutive fmas do not wait on each other
        FloatVector acc0 = FloatVector.zero(SPECIES);
        FloatVector acc1 = FloatVector.zero(SPECIES);
        int b = 0;
        // each block's scale is read before its vectors: C2 parses in order, and a call it reaches
        // after its node budget for inlining (NodeCountInliningCutoff) stays out of line, which for
        // blockDot would box its vector (the tail's scale read was cut off on a 256-bit machine)
        for (; b + 1 < blocks; b += 2, block += 2 * BLOCK_BYTES, xi += 2 * BLOCK) {
            float d0 = Float16.lookup(data.getShort(block));
            float d1 = Float16.lookup(data.getShort(block + BLOCK_BYTES));
            acc0 = blockDot(block, x, xi).fma(FloatVector.broadcast(SPECIES, d0), acc0);
            acc1 = blockDot(block + BLOCK_BYTES, x, xi + BLOCK).fma(FloatVector.broadcast(SPECIES, d1), acc1);
        }
        if (b < blocks) {
            float d = Float16.lookup(data.getShort(block));
            acc0 = blockDot(block, x, xi).fma(FloatVector.broadcast(SPECIES, d), acc0);
        }
        FloatVector acc = acc0.add(acc1);
        return sum + acc.reduceLanes(VectorOperators.ADD);
    }

    /** Lane-wise products of one block's 4-bit values (minus 8) with x, summed per lane (scale not applied). */
    private FloatVector blockDot(int block, float[] x, int xi) {
        int len = SPECIES.length();
        ByteVector packed = ByteVector.fromByteBuffer(BYTES_16, data, block + 2, ByteOrder.LITTLE_ENDIAN);
        ByteVector lo = packed.and((byte) 0x0f).sub((byte) 8);
        ByteVector hi = packed.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).sub((byte) 8);
        FloatVector blockSum = FloatVector.zero(SPECIES);
        for (int part = 0; part < 16 / len; part++) {
            FloatVector wLo = (FloatVector) lo.convertShape(VectorOperators.B2F, SPECIES, part);
            FloatVector wHi = (FloatVector) hi.convertShape(VectorOperators.B2F, SPECIES, part);
            blockSum = wLo.fma(FloatVector.fromArray(SPECIES, x, xi + part * len), blockSum);
            blockSum = wHi.fma(FloatVector.fromArray(SPECIES, x, xi + 16 + part * len), blockSum);
        }
        return blockSum;
    }
}
