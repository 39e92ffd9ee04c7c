package dev.icecache.model.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A Q5_K tensor: super-blocks of 256 elements in 176 bytes, ggml's {@code block_q5_K}:
 * f16 d, f16 dmin, 12 bytes of 6-bit sub-block scales and mins ({@link KQuantScales}),
 * 32 bytes qh of fifth bits, then 128 bytes of low 4 bits laid out as in Q4_K. Element l of
 * sub-block j (l in 0..31) takes bit j of qh[l] as its fifth bit:
 * element = (d * sc_j) * (nibble + 16 * bit) - (dmin * m_j).
 */
public final class Q5_KTensor extends FloatTensor {

    private static final int BLOCK = 256;
    private static final int BLOCK_BYTES = 176;
    private static final int SCALES = 4;
    private static final int QH = 16;
    private static final int QS = 48;
    private static final VectorSpecies<Byte> BYTES_16 = ByteVector.SPECIES_128;

    Q5_KTensor(String name, ByteBuffer data, long size) {
        super(name, data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
    }

    @Override
    public float getFloat(long index) {
        int block = Math.toIntExact((index / BLOCK) * BLOCK_BYTES);
        int i = (int) (index % BLOCK);
        int sub = i / 32;
        int l = i % 32;
        int packed = data.get(block + QS + 32 * (i / 64) + l) & 0xff;
        int nibble = (sub & 1) == 0 ? packed & 0x0f : packed >>> 4;
        int bit = ((data.get(block + QH + l) & 0xff) >>> sub) & 1;
        float d = Float16.toFloat(data.getShort(block));
        float dmin = Float16.toFloat(data.getShort(block + 2));
        return d * KQuantScales.scale(data, block + SCALES, sub) * (nibble + 16 * bit)
                - dmin * KQuantScales.min(data, block + SCALES, sub);
    }

    @Override
    float vectorDot(long offset, float[] x, int xOff, int n) {
        int head = headBeforeBlock(offset, n, BLOCK);
        int blocks = (n - head) / BLOCK;
        float sum = scalarEnds(offset, x, xOff, n, head, blocks * BLOCK);
        int xi = xOff + head;
        int block = Math.toIntExact(((offset + head) / BLOCK) * BLOCK_BYTES);
        FloatVector acc = FloatVector.zero(SPECIES);
        for (int b = 0; b < blocks; b++, block += BLOCK_BYTES, xi += BLOCK) {
            float d = Float16.lookup(data.getShort(block));
            float dmin = Float16.lookup(data.getShort(block + 2));
            ByteVector h0 = ByteVector.fromByteBuffer(BYTES_16, data, block + QH, ByteOrder.LITTLE_ENDIAN);
            ByteVector h1 = ByteVector.fromByteBuffer(BYTES_16, data, block + QH + 16, ByteOrder.LITTLE_ENDIAN);
            for (int c = 0; c < 4; c++) {
                int qs = block + QS + 32 * c;
                int xc = xi + 64 * c;
                int loSub = 2 * c;
                int hiSub = 2 * c + 1;
                ByteVector p0 = ByteVector.fromByteBuffer(BYTES_16, data, qs, ByteOrder.LITTLE_ENDIAN);
                ByteVector p1 = ByteVector.fromByteBuffer(BYTES_16, data, qs + 16, ByteOrder.LITTLE_ENDIAN);
                FloatVector zero = FloatVector.zero(SPECIES);
                FloatVector lo = BlockKernels.dot16(p0.and((byte) 0x0f).or(fifthBit(h0, loSub)), x, xc,
                        BlockKernels.dot16(p1.and((byte) 0x0f).or(fifthBit(h1, loSub)), x, xc + 16, zero));
                FloatVector hi = BlockKernels.dot16(
                        p0.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).or(fifthBit(h0, hiSub)), x, xc + 32,
                        BlockKernels.dot16(p1.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).or(fifthBit(h1, hiSub)),
                                x, xc + 48, zero));
                int at = block + SCALES;
                acc = lo.fma(FloatVector.broadcast(SPECIES, d * KQuantScales.scale(data, at, loSub)), acc);
                acc = hi.fma(FloatVector.broadcast(SPECIES, d * KQuantScales.scale(data, at, hiSub)), acc);
                acc = BlockKernels.sum(x, xc, 32, zero)
                        .fma(FloatVector.broadcast(SPECIES, -dmin * KQuantScales.min(data, at, loSub)), acc);
                acc = BlockKernels.sum(x, xc + 32, 32, zero)
                        .fma(FloatVector.broadcast(SPECIES, -dmin * KQuantScales.min(data, at, hiSub)), acc);
            }
        }
        return sum + acc.reduceLanes(VectorOperators.ADD);
    }

    /** 16 where bit {@code sub} of the qh byte is set, else 0. */
    private static ByteVector fifthBit(ByteVector qh, int sub) {
        return qh.lanewise(VectorOperators.LSHR, sub).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
    }
}
