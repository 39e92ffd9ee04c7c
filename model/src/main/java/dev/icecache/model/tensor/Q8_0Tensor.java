package dev.icecache.model.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
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
    private static final VectorSpecies<Byte> BYTES_32 = ByteVector.SPECIES_256;
    // int8 x int8 kernel: int lanes as many as float lanes; each int lane sums two int16 products
    private static final VectorSpecies<Integer> INTS = SPECIES == null ? null
            : VectorSpecies.of(int.class, SPECIES.vectorShape());
    private static final VectorSpecies<Short> SHORTS = SPECIES == null ? null
            : VectorSpecies.of(short.class, SPECIES.vectorShape());
    private static final VectorSpecies<Byte> HALF_BYTES = SPECIES == null ? null
            : VectorSpecies.of(byte.class, jdk.incubator.vector.VectorShape.forBitSize(SPECIES.vectorBitSize() / 2));

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
            float scale = Float16.lookup(data.getShort(block));
            if (SPECIES == null) {
                for (int j = 0; j < BLOCK; j++) {
                    dst[dstOff + i + j] = data.get(block + 2 + j) * scale;
                }
                continue;
            }
            int len = SPECIES.length();
            for (int half = 0; half < 2; half++) {
                ByteVector q = ByteVector.fromByteBuffer(BYTES_16, data, block + 2 + 16 * half, ByteOrder.LITTLE_ENDIAN);
                for (int part = 0; part < 16 / len; part++) {
                    ((FloatVector) q.convertShape(VectorOperators.B2F, SPECIES, part)).mul(scale)
                            .intoArray(dst, dstOff + i + 16 * half + part * len);
                }
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
        for (; b + 1 < blocks; b += 2, block += 2 * BLOCK_BYTES, xi += 2 * BLOCK) {
            acc0 = blockDot(block, x, xi).fma(FloatVector.broadcast(SPECIES, Float16.lookup(data.getShort(block))), acc0);
            acc1 = blockDot(block + BLOCK_BYTES, x, xi + BLOCK)
                    .fma(FloatVector.broadcast(SPECIES, Float16.lookup(data.getShort(block + BLOCK_BYTES))), acc1);
        }
        if (b < blocks) {
            acc0 = blockDot(block, x, xi).fma(FloatVector.broadcast(SPECIES, Float16.lookup(data.getShort(block))), acc0);
        }
        FloatVector acc = acc0.add(acc1);
        return sum + acc.reduceLanes(VectorOperators.ADD);
    }

    /** Lane-wise products of one block's int8 values with x, summed per lane (scale not applied). */
    private FloatVector blockDot(int block, float[] x, int xi) {
        int len = SPECIES.length();
        // one load of all 32 int8 values; each part widens the next len of them to floats
        ByteVector q = ByteVector.fromByteBuffer(BYTES_32, data, block + 2, ByteOrder.LITTLE_ENDIAN);
        FloatVector blockSum = FloatVector.zero(SPECIES);
        for (int part = 0; part < BLOCK / len; part++) {
            FloatVector w = (FloatVector) q.convertShape(VectorOperators.B2F, SPECIES, part);
            blockSum = w.fma(FloatVector.fromArray(SPECIES, x, xi + part * len), blockSum);
        }
        return blockSum;
    }

    /**
     * Dot product of the {@code n} elements at {@code offset} (both multiples of 32) with the
     * quantized vector {@code x} from its element {@code xOff}: int8 x int8 products summed in
     * int per block, then one float multiply by both block scales (ggml's Q8_0 x Q8_0 kernel).
     * Differs from {@link #dot} on the float vector by the quantization error of x.
     */
    public float dotQ8(long offset, Q8Activations x, int xOff, int n) {
        if (offset % BLOCK != 0 || n % BLOCK != 0 || xOff % BLOCK != 0 || offset < 0 || offset + n > size()
                || xOff < 0 || (long) xOff + n > x.capacity()) {
            throw new IllegalArgumentException("dotQ8 of tensor '" + name + "': offset " + offset + ", xOff " + xOff
                    + " and n " + n + " must be multiples of " + BLOCK + " within the tensor and the vector");
        }
        int blocks = n / BLOCK;
        int block = Math.toIntExact((offset / BLOCK) * BLOCK_BYTES);
        int xb = xOff / BLOCK;
        if (SPECIES == null) {
            return scalarDotQ8(block, x, xb, blocks);
        }
        FloatVector acc0 = FloatVector.zero(SPECIES);
        FloatVector acc1 = FloatVector.zero(SPECIES);
        int b = 0;
        for (; b + 1 < blocks; b += 2, block += 2 * BLOCK_BYTES, xb += 2) {
            acc0 = scaledBlockDotQ8(block, x, xb, acc0);
            acc1 = scaledBlockDotQ8(block + BLOCK_BYTES, x, xb + 1, acc1);
        }
        if (b < blocks) {
            acc0 = scaledBlockDotQ8(block, x, xb, acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /** acc + (one block's int8 products, as float lanes) * (weight scale * x scale). */
    private FloatVector scaledBlockDotQ8(int block, Q8Activations x, int xb, FloatVector acc) {
        FloatVector products = (FloatVector) blockDotQ8(block, x.quants, xb * BLOCK).convert(VectorOperators.I2F, 0);
        float scale = Float16.lookup(data.getShort(block)) * x.scales[xb];
        return products.fma(FloatVector.broadcast(SPECIES, scale), acc);
    }

    /** Lane sums of one block's int8 x int8 products (scales not applied). */
    private IntVector blockDotQ8(int block, byte[] xq, int xi) {
        int len = HALF_BYTES.length();
        IntVector sum = IntVector.zero(INTS);
        for (int part = 0; part < BLOCK / len; part++) {
            ShortVector w = (ShortVector) ByteVector.fromByteBuffer(HALF_BYTES, data, block + 2 + part * len,
                    ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, SHORTS, 0);
            ShortVector q = (ShortVector) ByteVector.fromArray(HALF_BYTES, xq, xi + part * len)
                    .convertShape(VectorOperators.B2S, SHORTS, 0);
            // |product| <= 128 * 128 fits int16; adding each int lane's two int16 halves is pmaddwd
            IntVector pairs = w.mul(q).reinterpretAsInts();
            sum = sum.add(pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                    .add(pairs.lanewise(VectorOperators.ASHR, 16));
        }
        return sum;
    }

    private float scalarDotQ8(int block, Q8Activations x, int xb, int blocks) {
        float sum = 0f;
        for (int b = 0; b < blocks; b++, block += BLOCK_BYTES, xb++) {
            int isum = 0;
            for (int j = 0; j < BLOCK; j++) {
                isum += data.get(block + 2 + j) * x.quants[xb * BLOCK + j];
            }
            sum += isum * (Float16.lookup(data.getShort(block)) * x.scales[xb]);
        }
        return sum;
    }
}
