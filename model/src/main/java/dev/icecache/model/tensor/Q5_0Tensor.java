package dev.icecache.model.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A Q5_0 tensor: blocks of 32 elements in 22 bytes, ggml's {@code block_q5_0}: f16 d, a
 * little-endian u32 qh of fifth bits (bit j for element j), then 16 bytes of nibbles as in
 * Q4_0 (byte j: element j low, element j+16 high); element = (nibble | fifth bit << 4) - 16, times d.
 */
public final class Q5_0Tensor extends FloatTensor {

    private static final int BLOCK = 32;
    private static final int BLOCK_BYTES = 22;
    private static final int QH = 2;
    private static final int QS = 6;
    private static final VectorSpecies<Byte> BYTES_16 = ByteVector.SPECIES_128;

    Q5_0Tensor(String name, ByteBuffer data, long size) {
        super(name, data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_0;
    }

    @Override
    public float getFloat(long index) {
        int block = Math.toIntExact((index / BLOCK) * BLOCK_BYTES);
        int j = (int) (index % BLOCK);
        int packed = data.get(block + QS + (j & 15)) & 0xff;
        int nibble = j < 16 ? packed & 0x0f : packed >>> 4;
        return ((nibble | FifthBits.of(data, block + QH, j)) - 16) * Float16.toFloat(data.getShort(block));
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
            // the scale first: parsed last, its lookup was the call C2's node budget cut off (AllocationFreeDecodeTest)
            float scale = Float16.lookup(data.getShort(block));
            ByteVector qh = FifthBits.load(data, block + QH);
            ByteVector packed = ByteVector.fromByteBuffer(BYTES_16, data, block + QS, ByteOrder.LITTLE_ENDIAN);
            ByteVector lo = packed.and((byte) 0x0f).or(FifthBits.low(qh)).sub((byte) 16);
            ByteVector hi = packed.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f)
                    .or(FifthBits.high(qh)).sub((byte) 16);
            FloatVector products = BlockKernels.dot16(lo, x, xi, BlockKernels.dot16(hi, x, xi + 16, FloatVector.zero(SPECIES)));
            acc = products.fma(FloatVector.broadcast(SPECIES, scale), acc);
        }
        return sum + acc.reduceLanes(VectorOperators.ADD);
    }
}
