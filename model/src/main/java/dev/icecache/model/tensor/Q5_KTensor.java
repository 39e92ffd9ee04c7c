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
 * A Q5_K tensor: super-blocks of 256 elements in 176 bytes, ggml's {@code block_q5_K}:
 * f16 d, f16 dmin, 12 bytes of 6-bit sub-block scales and mins ({@link KQuantScales}),
 * 32 bytes qh of fifth bits, then 128 bytes of low 4 bits laid out as in Q4_K. Element l of
 * sub-block j (l in 0..31) takes bit j of qh[l] as its fifth bit:
 * element = (d * sc_j) * (nibble + 16 * bit) - (dmin * m_j).
 */
public final class Q5_KTensor extends FloatTensor implements Q8KDot, HeapRows {

    private static final int BLOCK = 256;
    private static final int BLOCK_BYTES = 176;
    private static final int SCALES = 4;
    private static final int QH = 16;
    private static final int QS = 48;
    private static final VectorSpecies<Byte> BYTES_16 = ByteVector.SPECIES_128;
    // the heap rows' kernel: sixteen quants widened to sixteen int16 lanes, whose products pair
    // up in eight int lanes (256-bit vectors whatever the machine prefers)
    private static final VectorSpecies<Short> SHORTS_16 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> INTS_8 = IntVector.SPECIES_256;

    // decode rows on the heap ({@link #withHeapRows}), or null: every element's five bits as a
    // byte in element order; and the super-blocks' decoded scales
    private final byte[] subQuants;
    private final SubBlockScales subScales;

    Q5_KTensor(String name, ByteBuffer data, long size) {
        this(name, data, size, null, null);
    }

    private Q5_KTensor(String name, ByteBuffer data, long size, byte[] subQuants, SubBlockScales subScales) {
        super(name, data, size);
        this.subQuants = subQuants;
        this.subScales = subScales;
    }

    @Override
    public long heapRowBytes() {
        return size() / BLOCK * (BLOCK + SubBlockScales.BYTES);
    }

    @Override
    public boolean hasHeapRows() {
        return subQuants != null;
    }

    /**
     * This tensor with decode rows on the heap as well ({@link #heapRowBytes} of them, 288 bytes
     * per 256 weights against the mapping's 176): each quant's nibble and fifth bit joined into a
     * byte once, where the mapped kernel joins them from two arrays in every step, and each
     * super-block's scales, mins, d and dmin decoded once. The same integer sums and float steps
     * as the mapped kernel, so the same bits; {@link #copyTo} (the prefill's row decode) reads them
     * too, the rest the mapping. Read where the Q4_K rows are ({@link Q4_KTensor#readsHeapRows}).
     */
    @Override
    public Q5_KTensor withHeapRows() {
        if (subQuants != null) {
            return this;
        }
        int blocks = Math.toIntExact(size() / BLOCK);
        byte[] quants = new byte[Math.multiplyExact(blocks, BLOCK)];
        SubBlockScales scales = SubBlockScales.allocate(blocks);
        byte[] raw = new byte[BLOCK_BYTES];
        ByteBuffer block = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < blocks; b++) {
            data.get(b * BLOCK_BYTES, raw, 0, BLOCK_BYTES);
            scales.put(block, b);
            for (int j = 0; j < 8; j++) {
                int qs = QS + 32 * (j >> 1);
                int shift = 4 * (j & 1);
                for (int l = 0; l < 32; l++) {
                    int q = (((raw[qs + l] & 0xff) >>> shift) & 0x0f) + 16 * (((raw[QH + l] & 0xff) >>> j) & 1);
                    quants[BLOCK * b + 32 * j + l] = (byte) q;
                }
            }
        }
        return new Q5_KTensor(name, data, size(), quants, scales);
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
    public void copyTo(long offset, float[] dst, int dstOff, int n) {
        if (offset % BLOCK != 0 || n % BLOCK != 0) {
            super.copyTo(offset, dst, dstOff, n);
            return;
        }
        if (subQuants != null) {
            heapCopy(offset, dst, dstOff, n);
            return;
        }
        int block = Math.toIntExact((offset / BLOCK) * BLOCK_BYTES);
        for (int i = 0; i < n; i += BLOCK, block += BLOCK_BYTES) {
            float d = Float16.lookup(data.getShort(block));
            float dmin = Float16.lookup(data.getShort(block + 2));
            long scales0to7 = data.getLong(block + SCALES);
            int scales8to11 = data.getInt(block + SCALES + 8);
            for (int j = 0; j < 8; j++) {
                // the same float operations as getFloat: (d * scale) * q - (dmin * min)
                float step = d * KQuantScales.scale(scales0to7, scales8to11, j);
                float shift = dmin * KQuantScales.min(scales0to7, scales8to11, j);
                int qs = block + QS + 32 * (j >> 1);
                int nibbleShift = 4 * (j & 1);
                for (int l = 0; l < 32; l++) {
                    int q = (((data.get(qs + l) & 0xff) >>> nibbleShift) & 0x0f) + (((data.get(block + QH + l) & 0xff) >>> j) & 1) * 16;
                    dst[dstOff + i + 32 * j + l] = step * q - shift;
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
            float d = Float16.lookup(data.getShort(block));
            float dmin = Float16.lookup(data.getShort(block + 2));
            long scales0to7 = data.getLong(block + SCALES);
            int scales8to11 = data.getInt(block + SCALES + 8);
            // sub-blocks 2c and 2c+1: low and high nibbles of bytes 32c .., fifth bits 2c and 2c+1 of qh;
            // written out, not a shared helper (see Q4_KTensor.vectorDot)
            for (int c = 0; c < 4; c++) {
                int qs = block + QS + 32 * c;
                FloatVector loScale = FloatVector.broadcast(SPECIES, d * KQuantScales.scale(scales0to7, scales8to11, 2 * c));
                FloatVector loShift = FloatVector.broadcast(SPECIES, -dmin * KQuantScales.min(scales0to7, scales8to11, 2 * c));
                FloatVector hiScale = FloatVector.broadcast(SPECIES, d * KQuantScales.scale(scales0to7, scales8to11, 2 * c + 1));
                FloatVector hiShift = FloatVector.broadcast(SPECIES, -dmin * KQuantScales.min(scales0to7, scales8to11, 2 * c + 1));
                for (int h = 0; h < 32; h += 16) {
                    ByteVector p = ByteVector.fromByteBuffer(BYTES_16, data, qs + h, ByteOrder.LITTLE_ENDIAN);
                    ByteVector qh = ByteVector.fromByteBuffer(BYTES_16, data, block + QH + h, ByteOrder.LITTLE_ENDIAN)
                            .lanewise(VectorOperators.LSHR, 2 * c);
                    ByteVector lo = p.and((byte) 0x0f).or(qh.and((byte) 1).lanewise(VectorOperators.LSHL, 4));
                    ByteVector hi = p.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f)
                            .or(qh.and((byte) 2).lanewise(VectorOperators.LSHL, 3));
                    for (int part = 0; part < 16 / len; part++) {
                        FloatVector wLo = ((FloatVector) lo.convertShape(VectorOperators.B2F, SPECIES, part)).fma(loScale, loShift);
                        acc = wLo.fma(FloatVector.fromArray(SPECIES, x, xi + 64 * c + h + part * len), acc);
                        FloatVector wHi = ((FloatVector) hi.convertShape(VectorOperators.B2F, SPECIES, part)).fma(hiScale, hiShift);
                        acc = wHi.fma(FloatVector.fromArray(SPECIES, x, xi + 64 * c + 32 + h + part * len), acc);
                    }
                }
            }
        }
        return sum + acc.reduceLanes(VectorOperators.ADD);
    }

    /** {@inheritDoc} {@link SubBlockDot#dot} with the fifth bits. */
    @Override
    public float dotQ8K(long offset, Q8KActivations x, int xOff, int n) {
        if (subQuants == null) {
            return SubBlockDot.dot(this, data, true, offset, x, xOff, n);
        }
        return SubBlockDot.heapDot(this, true, subQuants, subScales, offset, x, xOff, n);
    }

    /**
     * {@link #copyTo} of whole super-blocks from the heap rows, eight elements at a time, with the
     * scalar decode's float operations, {@code (d * scale) * q - (dmin * min)}: the same floats.
     */
    private void heapCopy(long offset, float[] dst, int dstOff, int n) {
        int b = Math.toIntExact(offset / BLOCK);
        for (int i = 0; i < n; i += BLOCK, b++) {
            for (int j = 0; j < 8; j++) {
                float step = subScales.step(b, j);
                float shift = subScales.shift(b, j);
                for (int l = 0; l < 32; l += CopyLanes.LEN) {
                    ((FloatVector) ByteVector.fromArray(CopyLanes.BYTES, subQuants, BLOCK * b + 32 * j + l)
                            .convertShape(VectorOperators.B2F, CopyLanes.FLOATS, 0)).mul(step).sub(shift)
                            .intoArray(dst, dstOff + i + 32 * j + l);
                }
            }
        }
    }

    /**
     * {@code sum_j sc_j * (q_j . x_j)} of super-block {@code b} from the heap rows, exact in int:
     * a sub-block's two halves are multiplied in int16 lanes and added there (each lane at most
     * 2 * 31 * 128), then each int lane's two int16 sums are sign-extended, added and scaled.
     */
    static int heapProducts(byte[] quants, byte[] scales, int b, short[] xq, int xo) {
        IntVector acc = IntVector.zero(INTS_8);
        int qb = BLOCK * b;
        for (int j = 0; j < 8; j++) {
            ShortVector lo = (ShortVector) ByteVector.fromArray(BYTES_16, quants, qb + 32 * j)
                    .convertShape(VectorOperators.B2S, SHORTS_16, 0);
            ShortVector hi = (ShortVector) ByteVector.fromArray(BYTES_16, quants, qb + 32 * j + 16)
                    .convertShape(VectorOperators.B2S, SHORTS_16, 0);
            IntVector p = lo.mul(ShortVector.fromArray(SHORTS_16, xq, xo + 32 * j))
                    .add(hi.mul(ShortVector.fromArray(SHORTS_16, xq, xo + 32 * j + 16))).reinterpretAsInts();
            p = p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p.lanewise(VectorOperators.ASHR, 16));
            acc = acc.add(p.mul(scales[8 * b + j]));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** {@code sum_j sc_j * (q_j . x_j)} of one super-block, exact in int (at most 8 * 63 * 32 * 31 * 128). */
    static int vectorProducts(ByteBuffer data, int block, long scales0to7, int scales8to11, Q8KActivations x, int xb) {
        IntVector acc = IntVector.zero(Q8KActivations.INTS);
        int xq = xb * BLOCK;
        // sub-blocks 2c and 2c+1: low and high nibbles of bytes 32c .., fifth bits 2c and 2c+1 of qh
        for (int c = 0; c < 4; c++) {
            int qs = block + QS + 32 * c;
            int scaleLo = KQuantScales.scale(scales0to7, scales8to11, 2 * c);
            int scaleHi = KQuantScales.scale(scales0to7, scales8to11, 2 * c + 1);
            for (int e = 0; e < 32; e += Q8KActivations.STEP) {
                ByteVector p = ByteVector.fromByteBuffer(Q8KActivations.HALF_BYTES, data, qs + e, ByteOrder.LITTLE_ENDIAN);
                // bits split in int16 lanes (x86 has no byte shifts; C2 may not compile them as vectors)
                ShortVector packed = (ShortVector) p.convertShape(VectorOperators.B2S, Q8KActivations.SHORTS, 0);
                ShortVector qh = (ShortVector) ByteVector.fromByteBuffer(Q8KActivations.HALF_BYTES, data, block + QH + e,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, Q8KActivations.SHORTS, 0)
                        .lanewise(VectorOperators.ASHR, 2 * c);
                ShortVector lo = packed.and((short) 0x0f).or(qh.and((short) 1).lanewise(VectorOperators.LSHL, 4));
                ShortVector hi = packed.lanewise(VectorOperators.ASHR, 4).and((short) 0x0f)
                        .or(qh.and((short) 2).lanewise(VectorOperators.LSHL, 3));
                // each int lane: its two int16 products (|q * x| <= 31 * 128), sign-extended and added
                IntVector pl = lo.mul(ShortVector.fromArray(Q8KActivations.SHORTS, x.quants, xq + 64 * c + e)).reinterpretAsInts();
                IntVector ph = hi.mul(ShortVector.fromArray(Q8KActivations.SHORTS, x.quants, xq + 64 * c + 32 + e))
                        .reinterpretAsInts();
                pl = pl.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(pl.lanewise(VectorOperators.ASHR, 16));
                ph = ph.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(ph.lanewise(VectorOperators.ASHR, 16));
                acc = acc.add(pl.mul(scaleLo)).add(ph.mul(scaleHi));
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
