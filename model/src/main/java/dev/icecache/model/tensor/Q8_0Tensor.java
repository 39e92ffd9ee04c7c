package dev.icecache.model.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A Q8_0 tensor: blocks of 32 elements, each an f16 scale d followed by 32 int8 values q;
 * element = d * q.
 */
public final class Q8_0Tensor extends FloatTensor {

    private static final int BLOCK = 32;
    private static final int BLOCK_BYTES = 34;
    private static final VectorSpecies<Byte> BYTES_16 = ByteVector.SPECIES_128;

    Q8_0Tensor(String name, ByteBuffer data, long size) {
        super(name, data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public float getFloat(long index) {
        int block = Math.toIntExact((index / BLOCK) * BLOCK_BYTES);
        float scale = Float16.toFloat(data.getShort(block));
        return data.get(block + 2 + (int) (index % BLOCK)) * scale;
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
            for (int j = 0; j < BLOCK; j++) {
                dst[dstOff + i + j] = data.get(block + 2 + j) * scale;
            }
        }
    }

    @Override
    float vectorDot(long offset, float[] x, int xOff, int n) {
        int head = headBeforeBlock(offset, n, BLOCK);
        int blocks = (n - head) / BLOCK;
        float sum = scalarEnds(offset, x, xOff, n, head, blocks * BLOCK);
        int xi = xOff + head;
        int block = Math.toIntExact(((offset + head) / BLOCK) * BLOCK_BYTES);
        int len = SPECIES.length();
        FloatVector acc = FloatVector.zero(SPECIES);
        for (int b = 0; b < blocks; b++, block += BLOCK_BYTES, xi += BLOCK) {
            FloatVector blockSum = FloatVector.zero(SPECIES);
            for (int half = 0; half < 2; half++) {
                ByteVector q = ByteVector.fromByteBuffer(BYTES_16, data, block + 2 + 16 * half, ByteOrder.LITTLE_ENDIAN);
                for (int part = 0; part < 16 / len; part++) {
                    FloatVector w = (FloatVector) q.convertShape(VectorOperators.B2F, SPECIES, part);
                    blockSum = w.fma(FloatVector.fromArray(SPECIES, x, xi + 16 * half + part * len), blockSum);
                }
            }
            acc = blockSum.fma(FloatVector.broadcast(SPECIES, Float16.toFloat(data.getShort(block))), acc);
        }
        return sum + acc.reduceLanes(VectorOperators.ADD);
    }
}
