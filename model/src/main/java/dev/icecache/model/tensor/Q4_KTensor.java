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
 * A Q4_K tensor: super-blocks of 256 elements in 144 bytes, ggml's {@code block_q4_K}:
 * f16 d, f16 dmin, 12 bytes of 6-bit sub-block scales and mins ({@link KQuantScales}), then
 * 128 bytes of 4-bit quants. Sub-block j (32 elements) has scale sc_j and min m_j; the quants
 * of elements 64c .. 64c+63 are bytes 32c .. 32c+31, low nibbles first (sub-block 2c), then
 * high nibbles (sub-block 2c+1); element = (d * sc_j) * q - (dmin * m_j).
 */
public final class Q4_KTensor extends FloatTensor implements Q8KDot, HeapRows {

    private static final int BLOCK = 256;
    private static final int BLOCK_BYTES = 144;
    private static final int SCALES = 4;
    private static final int QS = 16;
    private static final VectorSpecies<Byte> BYTES_16 = ByteVector.SPECIES_128;
    // the heap rows' kernel: sixteen bytes of a sub-block widened to sixteen int16 lanes, whose
    // products pair up in eight int lanes (256-bit vectors whatever the machine prefers)
    private static final VectorSpecies<Short> SHORTS_16 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> INTS_8 = IntVector.SPECIES_256;

    // decode rows on the heap ({@link #withHeapRows}), or null: per sub-block of 32 elements, 16
    // bytes whose low nibbles are its elements 0-15 and high nibbles its elements 16-31; and the
    // super-blocks' decoded scales
    private final byte[] subNibbles;
    private final SubBlockScales subScales;

    Q4_KTensor(String name, ByteBuffer data, long size) {
        this(name, data, size, null, null);
    }

    private Q4_KTensor(String name, ByteBuffer data, long size, byte[] subNibbles, SubBlockScales subScales) {
        super(name, data, size);
        this.subNibbles = subNibbles;
        this.subScales = subScales;
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    /**
     * Whether the int8 dot reads the decode rows of {@link #withHeapRows}: with 256- and 512-bit
     * vectors (AVX2, AVX-512), and the K-quant int8 path on.
     */
    public static boolean readsHeapRows() {
        return SPECIES != null && FixedLaneDot.PARTS <= 2 && Q8KActivations.INTS != null;
    }

    @Override
    public long heapRowBytes() {
        return size() / BLOCK * (BLOCK / 2 + SubBlockScales.BYTES);
    }

    @Override
    public boolean hasHeapRows() {
        return subNibbles != null;
    }

    /**
     * This tensor with decode rows on the heap as well ({@link #heapRowBytes} of them, 160 bytes
     * per 256 weights against the mapping's 144): each sub-block's 32 quants packed so that one
     * 16-byte load holds all of them, low nibbles then high ones, and each super-block's scales,
     * mins, d and dmin decoded once. The int8 dot ({@link #heapProducts}) then adds a sub-block's
     * two halves in int16 before widening, one widening and one scale multiply per 32 products
     * where the mapped kernel has two. The sums are the same integers and the float steps the same,
     * so the same bits; {@link #copyTo} (the prefill's row decode) reads them too, the rest the mapping.
     */
    @Override
    public Q4_KTensor withHeapRows() {
        if (subNibbles != null) {
            return this;
        }
        int blocks = Math.toIntExact(size() / BLOCK);
        byte[] nibbles = new byte[Math.multiplyExact(blocks, BLOCK / 2)];
        SubBlockScales scales = SubBlockScales.allocate(blocks);
        byte[] raw = new byte[BLOCK_BYTES];
        ByteBuffer block = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < blocks; b++) {
            data.get(b * BLOCK_BYTES, raw, 0, BLOCK_BYTES);
            scales.put(block, b);
            for (int j = 0; j < 8; j++) {
                int qs = QS + 32 * (j >> 1);
                int shift = 4 * (j & 1);
                for (int l = 0; l < 16; l++) {
                    int lo = ((raw[qs + l] & 0xff) >>> shift) & 0x0f;
                    int hi = ((raw[qs + l + 16] & 0xff) >>> shift) & 0x0f;
                    nibbles[BLOCK / 2 * b + 16 * j + l] = (byte) (lo | hi << 4);
                }
            }
        }
        return new Q4_KTensor(name, data, size(), nibbles, scales);
    }

    @Override
    public float getFloat(long index) {
        int block = Math.toIntExact((index / BLOCK) * BLOCK_BYTES);
        int i = (int) (index % BLOCK);
        int sub = i / 32;
        int packed = data.get(block + QS + 32 * (i / 64) + i % 32) & 0xff;
        int q = (sub & 1) == 0 ? packed & 0x0f : packed >>> 4;
        float d = Float16.toFloat(data.getShort(block));
        float dmin = Float16.toFloat(data.getShort(block + 2));
        return d * KQuantScales.scale(data, block + SCALES, sub) * q - dmin * KQuantScales.min(data, block + SCALES, sub);
    }

    @Override
    public void copyTo(long offset, float[] dst, int dstOff, int n) {
        if (offset % BLOCK != 0 || n % BLOCK != 0) {
            super.copyTo(offset, dst, dstOff, n);
            return;
        }
        if (subNibbles != null) {
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
                    int q = ((data.get(qs + l) & 0xff) >>> nibbleShift) & 0x0f;
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
            // sub-blocks 2c and 2c+1: low and high nibbles of bytes 32c .. 32c+31 (constant shifts)
            for (int c = 0; c < 4; c++) {
                int qs = block + QS + 32 * c;
                FloatVector loScale = FloatVector.broadcast(SPECIES, d * KQuantScales.scale(scales0to7, scales8to11, 2 * c));
                FloatVector loShift = FloatVector.broadcast(SPECIES, -dmin * KQuantScales.min(scales0to7, scales8to11, 2 * c));
                FloatVector hiScale = FloatVector.broadcast(SPECIES, d * KQuantScales.scale(scales0to7, scales8to11, 2 * c + 1));
                FloatVector hiShift = FloatVector.broadcast(SPECIES, -dmin * KQuantScales.min(scales0to7, scales8to11, 2 * c + 1));
                // written out, not a shared helper: a helper compiled on its own grows past C2's
                // InlineSmallCode and is then called, not inlined, boxing every vector (seen in JFR)
                for (int h = 0; h < 32; h += 16) {
                    ByteVector p = ByteVector.fromByteBuffer(BYTES_16, data, qs + h, ByteOrder.LITTLE_ENDIAN);
                    ByteVector lo = p.and((byte) 0x0f);
                    ByteVector hi = p.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f);
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

    /** {@inheritDoc} {@link SubBlockDot#dot}. */
    @Override
    public float dotQ8K(long offset, Q8KActivations x, int xOff, int n) {
        if (subNibbles == null) {
            return SubBlockDot.dot(this, data, false, offset, x, xOff, n);
        }
        return SubBlockDot.heapDot(this, false, subNibbles, subScales, offset, x, xOff, n);
    }

    /**
     * {@link #copyTo} of whole super-blocks from the heap rows, eight elements at a time, with the
     * scalar decode's float operations, {@code (d * scale) * q - (dmin * min)}: the same floats.
     * Prefill decodes every weight row this way once per batch.
     */
    private void heapCopy(long offset, float[] dst, int dstOff, int n) {
        int b = Math.toIntExact(offset / BLOCK);
        for (int i = 0; i < n; i += BLOCK, b++) {
            for (int j = 0; j < 8; j++) {
                float step = subScales.step(b, j);
                float shift = subScales.shift(b, j);
                int out = dstOff + i + 32 * j;
                for (int h = 0; h < 16; h += CopyLanes.LEN) {
                    IntVector v = (IntVector) ByteVector.fromArray(CopyLanes.BYTES, subNibbles, BLOCK / 2 * b + 16 * j + h)
                            .convertShape(VectorOperators.B2I, CopyLanes.INTS, 0);
                    ((FloatVector) v.and(0x0f).convert(VectorOperators.I2F, 0)).mul(step).sub(shift).intoArray(dst, out + h);
                    ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(0x0f).convert(VectorOperators.I2F, 0)).mul(step).sub(shift)
                            .intoArray(dst, out + 16 + h);
                }
            }
        }
    }

    /**
     * {@code sum_j sc_j * (q_j . x_j)} of super-block {@code b} from the heap rows, exact in int:
     * a sub-block's two halves are multiplied in int16 lanes and added there (each lane at most
     * 2 * 15 * 128), then each int lane's two int16 sums are sign-extended, added and scaled.
     */
    static int heapProducts(byte[] nibbles, byte[] scales, int b, short[] xq, int xo) {
        IntVector acc = IntVector.zero(INTS_8);
        int nb = BLOCK / 2 * b;
        for (int j = 0; j < 8; j++) {
            ShortVector v = (ShortVector) ByteVector.fromArray(BYTES_16, nibbles, nb + 16 * j)
                    .convertShape(VectorOperators.B2S, SHORTS_16, 0);
            ShortVector lo = v.and((short) 0x0f);
            ShortVector hi = v.lanewise(VectorOperators.ASHR, 4).and((short) 0x0f);
            IntVector p = lo.mul(ShortVector.fromArray(SHORTS_16, xq, xo + 32 * j))
                    .add(hi.mul(ShortVector.fromArray(SHORTS_16, xq, xo + 32 * j + 16))).reinterpretAsInts();
            p = p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p.lanewise(VectorOperators.ASHR, 16));
            acc = acc.add(p.mul(scales[8 * b + j]));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** {@code sum_j sc_j * (q_j . x_j)} of one super-block, exact in int (at most 8 * 63 * 32 * 15 * 128). */
    static int vectorProducts(ByteBuffer data, int block, long scales0to7, int scales8to11, Q8KActivations x, int xb) {
        IntVector acc = IntVector.zero(Q8KActivations.INTS);
        int xq = xb * BLOCK;
        // sub-blocks 2c and 2c+1: low and high nibbles of bytes 32c .. 32c+31, elements 64c .. 64c+63
        for (int c = 0; c < 4; c++) {
            int qs = block + QS + 32 * c;
            int scaleLo = KQuantScales.scale(scales0to7, scales8to11, 2 * c);
            int scaleHi = KQuantScales.scale(scales0to7, scales8to11, 2 * c + 1);
            for (int e = 0; e < 32; e += Q8KActivations.STEP) {
                ByteVector p = ByteVector.fromByteBuffer(Q8KActivations.HALF_BYTES, data, qs + e, ByteOrder.LITTLE_ENDIAN);
                // nibbles split in int16 lanes (x86 has no byte shifts)
                ShortVector packed = (ShortVector) p.convertShape(VectorOperators.B2S, Q8KActivations.SHORTS, 0);
                ShortVector lo = packed.and((short) 0x0f);
                ShortVector hi = packed.lanewise(VectorOperators.ASHR, 4).and((short) 0x0f);
                // each int lane: its two int16 products (|q * x| <= 15 * 128), sign-extended and added
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
