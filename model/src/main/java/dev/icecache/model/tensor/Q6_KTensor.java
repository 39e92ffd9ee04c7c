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
    public void copyTo(long offset, float[] dst, int dstOff, int n) {
        if (offset % BLOCK != 0 || n % BLOCK != 0) {
            super.copyTo(offset, dst, dstOff, n);
            return;
        }
        int block = Math.toIntExact((offset / BLOCK) * BLOCK_BYTES);
        for (int i = 0; i < n; i += BLOCK, block += BLOCK_BYTES) {
            float d = Float16.lookup(data.getShort(block + D));
            for (int k = 0; k < 16; k++) {
                // group k of 16 elements, laid out as in vectorDot; the same float operations as getFloat
                int half = k >> 3;
                int g = (k >> 1) & 3;
                int l0 = 16 * (k & 1);
                float step = d * data.get(block + SCALES + k);
                for (int l = l0; l < l0 + 16; l++) {
                    int low = ((data.get(block + 64 * half + l + 32 * (g & 1)) & 0xff) >>> (4 * (g >> 1))) & 0x0f;
                    int high = ((data.get(block + QH + 32 * half + l) & 0xff) >>> (2 * g)) & 3;
                    dst[dstOff + i + 128 * half + 32 * g + l] = step * ((low | high << 4) - 32);
                }
            }
        }
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
        int len = SPECIES.length();
        for (int b = 0; b < blocks; b++, block += BLOCK_BYTES, xi += BLOCK) {
            float d = Float16.lookup(data.getShort(block + D));
            // group k of 16 elements (its own scale): half k / 8, g = (k / 2) % 4, l0 = 16 (k % 2)
            for (int k = 0; k < 16; k++) {
                int half = k >> 3;
                int g = (k >> 1) & 3;
                int l0 = 16 * (k & 1);
                ByteVector low = ByteVector.fromByteBuffer(BYTES_16, data, block + 64 * half + l0 + 32 * (g & 1),
                        ByteOrder.LITTLE_ENDIAN).lanewise(VectorOperators.LSHR, 4 * (g >> 1)).and((byte) 0x0f);
                ByteVector high = ByteVector.fromByteBuffer(BYTES_16, data, block + QH + 32 * half + l0, ByteOrder.LITTLE_ENDIAN)
                        .lanewise(VectorOperators.LSHR, 2 * g).and((byte) 3).lanewise(VectorOperators.LSHL, 4);
                FloatVector scale = FloatVector.broadcast(SPECIES, d * data.get(block + SCALES + k));
                ByteVector q = low.or(high).sub((byte) 32);
                int xg = xi + 128 * half + 32 * g + l0;
                // written out, not a shared helper (see Q4_KTensor.vectorDot)
                for (int part = 0; part < 16 / len; part++) {
                    FloatVector w = ((FloatVector) q.convertShape(VectorOperators.B2F, SPECIES, part)).mul(scale);
                    acc = w.fma(FloatVector.fromArray(SPECIES, x, xg + part * len), acc);
                }
            }
        }
        return sum + acc.reduceLanes(VectorOperators.ADD);
    }
}
