package dev.icecache.model.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A Q5_1 tensor: blocks of 32 elements in 24 bytes, ggml's {@code block_q5_1}: f16 d, f16 m,
 * a little-endian u32 qh of fifth bits (bit j for element j), then 16 bytes of nibbles as in
 * Q4_0; element = (nibble | fifth bit << 4) * d + m.
 */
public final class Q5_1Tensor extends FloatTensor {

    private static final int BLOCK = 32;
    private static final int BLOCK_BYTES = 24;
    private static final int QH = 4;
    private static final int QS = 8;
    private static final VectorSpecies<Byte> BYTES_16 = ByteVector.SPECIES_128;

    Q5_1Tensor(String name, ByteBuffer data, long size) {
        super(name, data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_1;
    }

    @Override
    public float getFloat(long index) {
        int block = Math.toIntExact((index / BLOCK) * BLOCK_BYTES);
        int j = (int) (index % BLOCK);
        int packed = data.get(block + QS + (j & 15)) & 0xff;
        int nibble = j < 16 ? packed & 0x0f : packed >>> 4;
        return (nibble | FifthBits.of(data, block + QH, j)) * Float16.toFloat(data.getShort(block))
                + Float16.toFloat(data.getShort(block + 2));
    }

    // NOTE: the quantized types repeat the block-range set-up of vectorDot on purpose (see the
    // NOTE in Q8_0Tensor): one shared base kernel would turn the hot call sites polymorphic.
    @Override
    float vectorDot(long offset, float[] x, int xOff, int n) {
        int head = headBeforeBlock(offset, n, BLOCK);
        int blocks = (n - head) / BLOCK;
        float sum = scalarEnds(offset, x, xOff, n, head, blocks * BLOCK);
        int xi = xOff + head;
        int block = Math.toIntExact(((offset + head) / BLOCK) * BLOCK_BYTES);
        FloatVector acc = FloatVector.zero(SPECIES);
        for (int b = 0; b < blocks; b++, block += BLOCK_BYTES, xi += BLOCK) {
            // the scales first: C2 parses in order, and calls it reaches after its node budget for
            // inlining (NodeCountInliningCutoff) stay out of line, where this kernel's own helpers
            // would take and return boxed vectors (found on a 256-bit machine, 2026-12-07)
            float d = Float16.lookup(data.getShort(block));
            float m = Float16.lookup(data.getShort(block + 2));
            ByteVector qh = FifthBits.load(data, block + QH);
            ByteVector packed = ByteVector.fromByteBuffer(BYTES_16, data, block + QS, ByteOrder.LITTLE_ENDIAN);
            ByteVector lo = packed.and((byte) 0x0f).or(FifthBits.low(qh));
            ByteVector hi = packed.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).or(FifthBits.high(qh));
            // as Q5_0's kernel (products, then one fma with d), plus the sum of x times the min m,
            // as adds (dot16 with ones has the same bits in more nodes)
            FloatVector zero = FloatVector.zero(SPECIES);
            FloatVector products = BlockKernels.dot16(lo, x, xi, BlockKernels.dot16(hi, x, xi + 16, zero));
            FloatVector xs = BlockKernels.sum16(x, xi, BlockKernels.sum16(x, xi + 16, zero));
            acc = products.fma(FloatVector.broadcast(SPECIES, d), acc);
            acc = xs.fma(FloatVector.broadcast(SPECIES, m), acc);
        }
        return sum + acc.reduceLanes(VectorOperators.ADD);
    }
}
