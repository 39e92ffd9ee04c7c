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
public final class Q6_KTensor extends FloatTensor implements Q8KDot, HeapRows {

    private static final int BLOCK = 256;
    private static final int BLOCK_BYTES = 210;
    private static final int QH = 128;
    private static final int SCALES = 192;
    private static final int D = 208;
    private static final VectorSpecies<Byte> BYTES_16 = ByteVector.SPECIES_128;
    /** Per element pair of a 32-element step of the int8 kernel: -1 where it is in the second 16, else 0. */
    private static final int[] SECOND_HALF = {0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1};
    // the heap rows' kernel: a group's sixteen quants widened to sixteen int16 lanes, whose
    // products pair up in eight int lanes (256-bit vectors whatever the machine prefers)
    private static final VectorSpecies<Short> SHORTS_16 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> INTS_8 = IntVector.SPECIES_256;

    // decode rows on the heap ({@link #withHeapRows}), or null: every element's q - 32 as a byte in
    // element order, the sixteen group scales of each super-block, and its d as a float
    private final byte[] groupQuants;
    private final byte[] groupScales;
    private final float[] superScales;

    Q6_KTensor(String name, ByteBuffer data, long size) {
        this(name, data, size, null, null, null);
    }

    private Q6_KTensor(String name, ByteBuffer data, long size, byte[] groupQuants, byte[] groupScales, float[] superScales) {
        super(name, data, size);
        this.groupQuants = groupQuants;
        this.groupScales = groupScales;
        this.superScales = superScales;
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public long heapRowBytes() {
        return size() / BLOCK * (BLOCK + 16 + Float.BYTES);
    }

    @Override
    public boolean hasHeapRows() {
        return groupQuants != null;
    }

    /**
     * This tensor with decode rows on the heap as well ({@link #heapRowBytes} of them, 276 bytes
     * per 256 weights against the mapping's 210): every quant's six bits joined and 32 taken off
     * once, so a group of sixteen is one load ({@link #heapProducts}), where the mapped kernel
     * joins the bits of two arrays in every step. The same integer sums and float steps, so the same
     * bits; {@link #copyTo} (the prefill's row decode) reads them too, the rest the mapping. Read where the Q4_K rows are
     * ({@link Q4_KTensor#readsHeapRows}).
     */
    @Override
    public Q6_KTensor withHeapRows() {
        if (groupQuants != null) {
            return this;
        }
        int blocks = Math.toIntExact(size() / BLOCK);
        byte[] quants = new byte[Math.multiplyExact(blocks, BLOCK)];
        byte[] scales = new byte[Math.multiplyExact(blocks, 16)];
        float[] supers = new float[blocks];
        byte[] raw = new byte[BLOCK_BYTES];
        for (int b = 0; b < blocks; b++) {
            data.get(b * BLOCK_BYTES, raw, 0, BLOCK_BYTES);
            supers[b] = Float16.lookup((short) ((raw[D] & 0xff) | raw[D + 1] << 8));
            System.arraycopy(raw, SCALES, scales, 16 * b, 16);
            for (int i = 0; i < BLOCK; i++) {
                int half = i >> 7;
                int g = (i >> 5) & 3;
                int l = i & 31;
                int low = ((raw[64 * half + l + 32 * (g & 1)] & 0xff) >>> (4 * (g >> 1))) & 0x0f;
                int high = ((raw[QH + 32 * half + l] & 0xff) >>> (2 * g)) & 3;
                quants[BLOCK * b + i] = (byte) ((low | high << 4) - 32);
            }
        }
        return new Q6_KTensor(name, data, size(), quants, scales, supers);
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
        if (groupQuants != null) {
            heapCopy(offset, dst, dstOff, n);
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

    /**
     * {@inheritDoc} Per super-block: {@code isum = sum_k sc_k * ((q_k - 32) . x_k)} over the
     * sixteen 16-element groups (Q6_K has no mins).
     */
    @Override
    public float dotQ8K(long offset, Q8KActivations x, int xOff, int n) {
        x.checkRange(this, offset, xOff, n);
        if (groupQuants != null) {
            int b = Math.toIntExact(offset / BLOCK);
            int xb = xOff / BLOCK;
            float sum = 0f;
            for (int end = b + n / BLOCK; b < end; b++, xb++) {
                int isum = heapProducts(groupQuants, groupScales, b, x.quants, xb * BLOCK);
                sum = Math.fma(superScales[b] * x.scales[xb], (float) isum, sum);
            }
            return sum;
        }
        int block = Math.toIntExact((offset / BLOCK) * BLOCK_BYTES);
        int xb = xOff / BLOCK;
        float sum = 0f;
        for (int b = 0; b < n / BLOCK; b++, block += BLOCK_BYTES, xb++) {
            int isum = Q8KActivations.INTS == null ? scalarProducts(block, x, xb) : vectorProducts(block, x, xb);
            sum = Math.fma(Float16.lookup(data.getShort(block + D)) * x.scales[xb], (float) isum, sum);
        }
        return sum;
    }

    /**
     * {@code sum_k sc_k * ((q_k - 32) . x_k)} of one super-block, exact in int (at most
     * 16 * 128 * 16 * 32 * 128).
     *
     * <p>The four groups of a half run as a loop, not written out: C2 parses a loop body once, and
     * the written-out version (853 bytecodes) passed C2's node budget for inlining
     * ({@code NodeCountInliningCutoff}) in every JVM on a 256-bit machine, so that its last groups
     * called out of line and, in 2 of 5 JVMs, ran their vectors boxed (2026-12-07).
     */
    private int vectorProducts(int block, Q8KActivations x, int xb) {
        IntVector acc = IntVector.zero(Q8KActivations.INTS);
        for (int h = 0; h < 2; h++) {
            int ql = block + 64 * h;
            int sc = block + SCALES + 8 * h;
            int xq = xb * BLOCK + 128 * h;
            for (int e = 0; e < 32; e += Q8KActivations.STEP) {
                // -1 in the int lanes of the second 16 elements of the group's 32, else 0: those
                // lanes take the scale of the group's second half (loaded from an array: a blend with
                // a static mask boxed vectors, and lanes computed from addIndex gave wrong sums once
                // C2 recompiled the kernel for heap and mapped buffers)
                IntVector second = IntVector.fromArray(Q8KActivations.INTS, SECOND_HALF, e / 2);
                // qh[l] holds the high bits of all four groups (bits split in int16 lanes: x86 has no
                // byte shifts; C2 may not compile them as vectors)
                ShortVector qh = (ShortVector) ByteVector.fromByteBuffer(Q8KActivations.HALF_BYTES, data, block + QH + 32 * h + e,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, Q8KActivations.SHORTS, 0);
                for (int g = 0; g < 4; g++) {
                    // the group's two scales first, as the other kernels read theirs (a call parsed
                    // after the node budget stays out of line)
                    int first = data.get(sc + 2 * g);
                    int step = data.get(sc + 2 * g + 1) - first;
                    // group g: elements 128h + 32g + e ..; groups 0 and 2 take the low and high
                    // nibbles of ql[l], groups 1 and 3 those of ql[l + 32]
                    ShortVector lo = (ShortVector) ByteVector.fromByteBuffer(Q8KActivations.HALF_BYTES, data,
                            ql + 32 * (g & 1) + e, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2S, Q8KActivations.SHORTS, 0);
                    ShortVector q = lo.lanewise(VectorOperators.ASHR, 4 * (g >> 1)).and((short) 0x0f)
                            .or(qh.lanewise(VectorOperators.ASHR, 2 * g).and((short) 3).lanewise(VectorOperators.LSHL, 4))
                            .sub((short) 32);
                    // each int lane of a product: its two int16 products (|(q - 32) * x| <= 32 * 128),
                    // sign-extended and added (the shorter ((lane << 16) + lane) >> 16 gave one wrong
                    // Q6_K sum in Q8KDotTest after a model's decode had compiled the kernel; not pursued)
                    IntVector p = q.mul(ShortVector.fromArray(Q8KActivations.SHORTS, x.quants, xq + 32 * g + e))
                            .reinterpretAsInts();
                    p = p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                            .add(p.lanewise(VectorOperators.ASHR, 16));
                    acc = acc.add(p.mul(IntVector.broadcast(Q8KActivations.INTS, step).and(second).add(first)));
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@link #copyTo} of whole super-blocks from the heap rows, eight elements at a time, with the
     * scalar decode's float operation, {@code (d * scale) * (q - 32)}: the same floats.
     */
    private void heapCopy(long offset, float[] dst, int dstOff, int n) {
        int b = Math.toIntExact(offset / BLOCK);
        for (int i = 0; i < n; i += BLOCK, b++) {
            float d = superScales[b];
            for (int k = 0; k < 16; k++) {
                float step = d * groupScales[16 * b + k];
                for (int l = 0; l < 16; l += CopyLanes.LEN) {
                    ((FloatVector) ByteVector.fromArray(CopyLanes.BYTES, groupQuants, BLOCK * b + 16 * k + l)
                            .convertShape(VectorOperators.B2F, CopyLanes.FLOATS, 0)).mul(step)
                            .intoArray(dst, dstOff + i + 16 * k + l);
                }
            }
        }
    }

    /**
     * {@link #vectorProducts} from the heap rows: per group of sixteen, the products in int16 lanes
     * (each at most 32 * 128), each int lane's two sign-extended, added and scaled, exact in int.
     */
    private static int heapProducts(byte[] quants, byte[] scales, int b, short[] xq, int xo) {
        IntVector acc = IntVector.zero(INTS_8);
        int qb = BLOCK * b;
        for (int k = 0; k < 16; k++) {
            ShortVector q = (ShortVector) ByteVector.fromArray(BYTES_16, quants, qb + 16 * k)
                    .convertShape(VectorOperators.B2S, SHORTS_16, 0);
            IntVector p = q.mul(ShortVector.fromArray(SHORTS_16, xq, xo + 16 * k)).reinterpretAsInts();
            p = p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p.lanewise(VectorOperators.ASHR, 16));
            acc = acc.add(p.mul(scales[16 * b + k]));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** {@link #vectorProducts} in scalar code. */
    private int scalarProducts(int block, Q8KActivations x, int xb) {
        int isum = 0;
        for (int k = 0; k < 16; k++) {
            int half = k >> 3;
            int g = (k >> 1) & 3;
            int l0 = 16 * (k & 1);
            int xq = xb * BLOCK + 128 * half + 32 * g;
            int dot = 0;
            for (int l = l0; l < l0 + 16; l++) {
                int low = ((data.get(block + 64 * half + l + 32 * (g & 1)) & 0xff) >>> (4 * (g >> 1))) & 0x0f;
                int high = ((data.get(block + QH + 32 * half + l) & 0xff) >>> (2 * g)) & 3;
                dot += ((low | high << 4) - 32) * x.quants[xq + l];
            }
            isum += data.get(block + SCALES + k) * dot;
        }
        return isum;
    }
}
