package dev.icecache.model.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A Q6_K tensor: super-blocks of 256 elements in 210 bytes, ggml's {@code block_q6_K}:
 * 128 bytes ql of low 4 bits, 64 bytes qh of high 2 bits, 16 int8 scales (one per 16
 * elements), then f16 d. Each half h (128 elements) uses ql[64h ..], qh[32h ..] and
 * scales[8h ..]; its element 32g + l (group g in 0..3, l in 0..31) has
 * <pre>
 *   low 4 bits  = nibble (g / 2) of ql[64h + l + 32 (g % 2)]   (low nibble first)
 *   high 2 bits = bits 2g, 2g+1 of qh[32h + l]
 *   element     = (d * scales[8h + 2g + l / 16]) * (bits - 32)
 * </pre>
 */
public final class Q6_KTensor extends FloatTensor {

    private static final int BLOCK = 256;
    private static final int BLOCK_BYTES = 210;
    private static final int QH = 128;
    private static final int SCALES = 192;
    private static final int D = 208;
    private static final VectorSpecies<Byte> BYTES_16 = ByteVector.SPECIES_128;

    Q6_KTensor(String name, ByteBuffer data, long size) {
        super(name, data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public float getFloat(long index) {
        int block = Math.toIntExact((index / BLOCK) * BLOCK_BYTES);
        int i = (int) (index % BLOCK);
        int half = i / 128;
        int g = (i % 128) / 32;
        int l = i % 32;
        int low = ((data.get(block + 64 * half + l + 32 * (g % 2)) & 0xff) >>> (4 * (g / 2))) & 0x0f;
        int high = ((data.get(block + QH + 32 * half + l) & 0xff) >>> (2 * g)) & 3;
        float d = Float16.toFloat(data.getShort(block + D));
        return d * data.get(block + SCALES + 8 * half + 2 * g + l / 16) * ((low | high << 4) - 32);
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
            float d = Float16.lookup(data.getShort(block + D));
            for (int half = 0; half < 2; half++) {
                for (int l0 = 0; l0 < 32; l0 += 16) {
                    ByteVector a = ByteVector.fromByteBuffer(BYTES_16, data, block + 64 * half + l0, ByteOrder.LITTLE_ENDIAN);
                    ByteVector c = ByteVector.fromByteBuffer(BYTES_16, data, block + 64 * half + 32 + l0,
                            ByteOrder.LITTLE_ENDIAN);
                    ByteVector h = ByteVector.fromByteBuffer(BYTES_16, data, block + QH + 32 * half + l0,
                            ByteOrder.LITTLE_ENDIAN);
                    int x0 = xi + 128 * half + l0;
                    int sc = block + SCALES + 8 * half + l0 / 16;
                    acc = group(a.and((byte) 0x0f), h, 0, x, x0, d * data.get(sc), acc);
                    acc = group(c.and((byte) 0x0f), h, 2, x, x0 + 32, d * data.get(sc + 2), acc);
                    acc = group(a.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f), h, 4, x, x0 + 64, d * data.get(sc + 4), acc);
                    acc = group(c.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f), h, 6, x, x0 + 96, d * data.get(sc + 6), acc);
                }
            }
        }
        return sum + acc.reduceLanes(VectorOperators.ADD);
    }

    /** acc + scale * (16 six-bit values from {@code low} and bits {@code shift, shift+1} of {@code qh}, minus 32) . x. */
    private static FloatVector group(ByteVector low, ByteVector qh, int shift, float[] x, int xi, float scale, FloatVector acc) {
        ByteVector q = low.or(qh.lanewise(VectorOperators.LSHR, shift).and((byte) 3).lanewise(VectorOperators.LSHL, 4))
                .sub((byte) 32);
        return BlockKernels.dot16(q, x, xi, FloatVector.zero(SPECIES)).fma(FloatVector.broadcast(SPECIES, scale), acc);
    }
}
