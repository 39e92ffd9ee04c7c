package dev.icecache.model.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * A Q8_0 tensor: blocks of 32 elements, each an f16 scale d followed by 32 int8 values q;
 * element = d * q.
 */
public final class Q8_0Tensor extends FloatTensor implements HeapRows {

    private static final int BLOCK = 32;
    private static final int BLOCK_BYTES = 34;
    // bytes loaded per part of the float dot: as many as float lanes, but at least the 64-bit shape's 8
    private static final VectorSpecies<Byte> BYTES_16 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Byte> BYTE_CHUNK = SPECIES == null ? null
            : VectorSpecies.of(byte.class, jdk.incubator.vector.VectorShape.forBitSize(Math.max(64, SPECIES.length() * 8)));
    // int8 x int8 kernel: per part, 2 * (float lanes) bytes widened to int16, multiplied, and each
    // int lane's two int16 products summed: as many int lanes as float lanes
    private static final VectorSpecies<Integer> INTS = SPECIES == null ? null
            : VectorSpecies.of(int.class, SPECIES.vectorShape());
    private static final VectorSpecies<Short> SHORTS = SPECIES == null ? null
            : VectorSpecies.of(short.class, SPECIES.vectorShape());
    private static final VectorSpecies<Byte> HALF_BYTES = SPECIES == null ? null
            : VectorSpecies.of(byte.class, jdk.incubator.vector.VectorShape.forBitSize(SPECIES.vectorBitSize() / 2));

    // decode rows on the heap ({@link #withHeapRows}), or null: each block's 32 quants in pair
    // order ({@link Q8Activations#toPairOrder}) and its scale as a float
    private final byte[] pairQuants;
    private final float[] blockScales;

    Q8_0Tensor(String name, ByteBuffer data, long size) {
        this(name, data, size, null, null);
    }

    private Q8_0Tensor(String name, ByteBuffer data, long size, byte[] pairQuants, float[] blockScales) {
        super(name, data, size);
        this.pairQuants = pairQuants;
        this.blockScales = blockScales;
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    /**
     * Whether the int8 dot reads the decode rows of {@link #withHeapRows}: with 256-bit vectors
     * (AVX2), where it otherwise copies each row out of the mapping before its products, and with
     * 512-bit ones, where it otherwise reads the mapping in place through the buffer's checks. The
     * 128-bit and scalar paths keep the row copy.
     */
    public static boolean readsHeapRows() {
        return SPECIES != null && FixedLaneDot.PARTS <= 2;
    }

    /**
     * Whether the heap rows (and {@link Q8Activations}' copy of the quants) are in block-pair order
     * ({@link Q8Activations#toBlockPairOrder}, the 512-bit kernel's) rather than pair order
     * ({@link Q8Activations#toPairOrder}, the 256-bit kernel's).
     */
    static boolean blockPairOrder() {
        return SPECIES != null && FixedLaneDot.PARTS == 1;
    }

    /** Heap bytes {@link #withHeapRows} takes: 32 quants and a float scale per block. */
    @Override
    public long heapRowBytes() {
        return size() / BLOCK * (BLOCK + Float.BYTES);
    }

    @Override
    public boolean hasHeapRows() {
        return pairQuants != null;
    }

    /**
     * This tensor with decode rows on the heap as well ({@link #heapRowBytes} of them): the quants
     * in the order that lets the int8 dot form every lane's pair sum with one int16 multiply-add
     * (pair order for the 256-bit {@link #pairDot}, block-pair order for the 512-bit
     * {@link #blockPairDot}), and each block's scale as a float. The products give the same bits;
     * only the int8 decode dot reads these rows; everything else keeps reading the mapping.
     */
    @Override
    public Q8_0Tensor withHeapRows() {
        if (pairQuants != null) {
            return this;
        }
        int blocks = Math.toIntExact(size() / BLOCK);
        boolean blockPairs = blockPairOrder();
        // block-pair order fills whole pairs: an odd count's last block has a zero partner
        byte[] quants = new byte[Math.multiplyExact(blockPairs ? blocks + (blocks & 1) : blocks, BLOCK)];
        float[] scales = new float[blocks];
        byte[] chunk = new byte[1024 * BLOCK_BYTES];
        for (int b = 0; b < blocks; ) {
            int n = Math.min(1024, blocks - b);
            data.get(b * BLOCK_BYTES, chunk, 0, n * BLOCK_BYTES);
            for (int i = 0; i < n; i++, b++) {
                scales[b] = Float16.lookup(halfBits(chunk, i * BLOCK_BYTES));
                if (blockPairs) {
                    Q8Activations.toBlockPairOrder(chunk, i * BLOCK_BYTES + 2, quants, b);
                } else {
                    Q8Activations.toPairOrder(chunk, i * BLOCK_BYTES + 2, quants, b * BLOCK);
                }
            }
        }
        return new Q8_0Tensor(name, data, size(), quants, scales);
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
            if (BYTE_CHUNK.length() == len) {
                // 256 and 512 bits: as many bytes as float lanes, converted as part 0. A later part of
                // a 16-byte load (below 512 bits) ran slice in Java and allocated: 512 bytes per decode
                // step on the embedding row (AllocationFreeDecodeTest, with the heap rows)
                for (int k = 0; k < BLOCK; k += len) {
                    ((FloatVector) ByteVector.fromByteBuffer(BYTE_CHUNK, data, block + 2 + k, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2F, SPECIES, 0)).mul(scale).intoArray(dst, dstOff + i + k);
                }
                continue;
            }
            for (int half = 0; half < 2; half++) {
                ByteVector q = ByteVector.fromByteBuffer(BYTES_16, data, block + 2 + 16 * half, ByteOrder.LITTLE_ENDIAN);
                for (int part = 0; part < 16 / len; part++) {
                    ((FloatVector) q.convertShape(VectorOperators.B2F, SPECIES, part)).mul(scale)
                            .intoArray(dst, dstOff + i + 16 * half + part * len);
                }
            }
        }
    }

    /**
     * {@link FixedLaneDot}'s order over the decoded elements (scale times int8, as
     * {@link #copyTo} decodes them), so a row gives the bits of the batched products on decoded
     * rows. Ranges that do not start and end on block boundaries take the scalar order.
     */
    @Override
    float kernelDot(long offset, float[] x, int xOff, int n) {
        if (SPECIES == null || offset % BLOCK != 0 || n % BLOCK != 0) {
            return fixedOrderScalarDot(offset, x, xOff, n);
        }
        int blocks = n / BLOCK;
        int len = FixedLaneDot.LEN;
        int chunk = BYTE_CHUNK.length();
        float[] lanes = FixedLaneDot.lanes();
        for (int p = 0; p < FixedLaneDot.PARTS; p++) {
            int lane = p * len;
            int load = lane / chunk * chunk; // byte offset of the load within a 16-element half block
            int part = lane % chunk / len;   // which len of the loaded bytes
            int block = Math.toIntExact((offset / BLOCK) * BLOCK_BYTES);
            int xi = xOff + lane;
            FloatVector acc = FloatVector.zero(SPECIES);
            for (int b = 0; b < blocks; b++, block += BLOCK_BYTES, xi += BLOCK) {
                float scale = Float16.lookup(data.getShort(block));
                for (int half = 0; half < BLOCK; half += FixedLaneDot.LANES) {
                    FloatVector w = ((FloatVector) ByteVector.fromByteBuffer(BYTE_CHUNK, data, block + 2 + half + load,
                            ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, SPECIES, part)).mul(scale);
                    acc = w.fma(FloatVector.fromArray(SPECIES, x, xi + half), acc);
                }
            }
            acc.intoArray(lanes, lane);
        }
        return FixedLaneDot.fold(lanes, 0);
    }

    /** {@link FixedLaneDot}'s order in scalar code on {@link #getFloat}, for any range. */
    private float fixedOrderScalarDot(long offset, float[] x, int xOff, int n) {
        float[] lanes = FixedLaneDot.zeroLanes();
        int m = n & -FixedLaneDot.LANES;
        for (int i = 0; i < m; i++) {
            lanes[i % FixedLaneDot.LANES] = Math.fma(getFloat(offset + i), x[xOff + i], lanes[i % FixedLaneDot.LANES]);
        }
        float sum = FixedLaneDot.fold(lanes, 0);
        for (int i = m; i < n; i++) {
            sum = Math.fma(getFloat(offset + i), x[xOff + i], sum);
        }
        return sum;
    }

    @Override
    float vectorDot(long offset, float[] x, int xOff, int n) {
        return kernelDot(offset, x, xOff, n);
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
        return vectorDotQ8(block, blocks, x, xb);
    }

    /**
     * The int8 dot in {@link FixedLaneDot}'s lanes: lane j of a block is the pair sum
     * w[2j]*x[2j] + w[2j+1]*x[2j+1] (exact in int); each lane is one fma chain over the blocks of
     * pair sum times (weight scale * x scale), and the sixteen lanes are folded. 512-bit vectors
     * read the mapped buffer in place; narrower ones read a copy of the row, 256-bit vectors in one
     * sweep ({@link #twoPartDot}), 128-bit ones in one sweep per part of their lane count.
     */
    private float vectorDotQ8(int first, int blocks, Q8Activations x, int firstXb) {
        if (FixedLaneDot.PARTS == 1 && pairQuants != null && ((blocks | first / BLOCK_BYTES | firstXb) & 1) == 0) {
            // the decode rows on the heap: no buffer checks per load, and one int16 multiply-add per
            // pair sum of two blocks
            int b0 = first / BLOCK_BYTES;
            return blockPairDot(pairQuants, b0 * BLOCK, blockScales, b0, blocks, x.pairQuants, x.scales, firstXb);
        }
        if (FixedLaneDot.PARTS == 1) {
            // all sixteen lanes in one register: fold them there (no thread-local scratch lookup per row)
            FloatVector even = FloatVector.zero(SPECIES);
            FloatVector odd = even;
            int block = first;
            int xb = firstXb;
            int b = 0;
            for (; b + 1 < blocks; b += 2, block += 2 * BLOCK_BYTES, xb += 2) {
                float se = Float16.lookup(data.getShort(block)) * x.scales[xb];
                float so = Float16.lookup(data.getShort(block + BLOCK_BYTES)) * x.scales[xb + 1];
                even = pairSums(block, x, xb).fma(FloatVector.broadcast(SPECIES, se), even);
                odd = pairSums(block + BLOCK_BYTES, x, xb + 1).fma(FloatVector.broadcast(SPECIES, so), odd);
            }
            if (b < blocks) {
                float se = Float16.lookup(data.getShort(block)) * x.scales[xb];
                even = pairSums(block, x, xb).fma(FloatVector.broadcast(SPECIES, se), even);
            }
            FloatVector acc = even.add(odd);
            acc = acc.add(acc.rearrange(FixedLaneDot.DOWN_8));
            acc = acc.add(acc.rearrange(FixedLaneDot.DOWN_4));
            acc = acc.add(acc.rearrange(FixedLaneDot.DOWN_2));
            acc = acc.add(acc.rearrange(FixedLaneDot.DOWN_1));
            return acc.lane(0);
        }
        if (FixedLaneDot.PARTS == 2 && pairQuants != null && (blocks & 1) == 0) {
            // the decode rows on the heap: no row copy, and one int16 multiply-add per pair sum
            // (AVX2, one thread, 2,048 x 8,192: 2.1-2.2 ms from the bytes in place, 1.6-1.7 ms here)
            float[] lanes = FixedLaneDot.lanes();
            int b0 = first / BLOCK_BYTES;
            pairDot(pairQuants, b0 * BLOCK, blockScales, b0, blocks, x.pairQuants, x.scales, firstXb, lanes);
            return FixedLaneDot.fold(lanes, 0);
        }
        // Narrower vectors otherwise read a copy of the row's bytes from a heap array. In place,
        // every load from the mapped buffer re-ran the buffer's checks and reloaded its fields: ~50
        // scalar instructions per pair of blocks and sweep (AVX2, one thread, 2,048 x 8,192: 4.4-4.6 ms
        // in place, 3.6-4.0 ms from the copy in two sweeps, 2.5-2.9 ms in twoPartDot's one)
        byte[] row = rowBytes(first, blocks);
        if (FixedLaneDot.PARTS == 2) {
            return twoPartDot(row, blocks, x.quants, x.scales, firstXb);
        }
        // Blocks in pairs, as above: a chain chosen by a branch per block merges two vector values
        // at the loop head, which C2 (JDK 17) boxes at every block (measured on AVX2: 1.6 tok/s)
        byte[] xq = x.quants;
        float[] xs = x.scales;
        float[] lanes = FixedLaneDot.lanes();
        for (int p = 0; p < FixedLaneDot.PARTS; p++) {
            FloatVector even = FloatVector.zero(SPECIES);
            FloatVector odd = even;
            int w = 0;
            int xb = firstXb;
            int end = firstXb + blocks;
            for (; xb + 1 < end; xb += 2, w += 2 * BLOCK_BYTES) {
                FloatVector se = FloatVector.broadcast(SPECIES, Float16.lookup(halfBits(row, w)) * xs[xb]);
                FloatVector so = FloatVector.broadcast(SPECIES, Float16.lookup(halfBits(row, w + BLOCK_BYTES)) * xs[xb + 1]);
                even = pairSums(row, w, xq, xb, p).fma(se, even);
                odd = pairSums(row, w + BLOCK_BYTES, xq, xb + 1, p).fma(so, odd);
            }
            if (xb < end) {
                FloatVector se = FloatVector.broadcast(SPECIES, Float16.lookup(halfBits(row, w)) * xs[xb]);
                even = pairSums(row, w, xq, xb, p).fma(se, even);
            }
            even.add(odd).intoArray(lanes, p * FixedLaneDot.LEN);
        }
        return FixedLaneDot.fold(lanes, 0);
    }

    /** This thread's copy of a row's blocks (grown to the longest row it has seen). */
    private static final ThreadLocal<byte[]> ROW = ThreadLocal.withInitial(() -> new byte[0]);

    /**
     * The bytes of {@code blocks} blocks from byte {@code first}, copied into this thread's row
     * buffer, followed by one block of zeros (scale 0, quants 0) where {@code blocks} is odd, so
     * that {@link #twoPartDot} takes its blocks in pairs without a tail.
     */
    private byte[] rowBytes(int first, int blocks) {
        byte[] row = ROW.get();
        int bytes = blocks * BLOCK_BYTES;
        if (row.length < bytes + BLOCK_BYTES) {
            row = new byte[bytes + BLOCK_BYTES];
            ROW.set(row);
        }
        data.get(first, row, 0, bytes);
        if ((blocks & 1) != 0) {
            Arrays.fill(row, bytes, bytes + BLOCK_BYTES, (byte) 0);
        }
        return row;
    }

    /**
     * The 256-bit int8 dot in one sweep: both parts (lanes 0-7 and 8-15 of each block's pair sums)
     * and both block parities, four fma chains, folded in registers in {@link FixedLaneDot#fold}'s
     * order. An odd count's last block pairs with the zero block {@link #rowBytes} appends, read
     * against the last activation block: its pair sums and its scale are 0, and fma(0, 0, acc)
     * is acc (an accumulator that starts at +0 never becomes -0), so the bits are those of the
     * two-sweep loop.
     *
     * <p>Written out, not through a helper, and so longer than C2's FreqInlineSize (325 bytes of
     * bytecode): C2 compiles it on its own and never inlines it into {@code vectorDotQ8}. Inlined
     * there (with the row copy), one of its vector intrinsics failed in 6 of 34 decode JVMs, which
     * then boxed every vector (1.1-2.2 tok/s against 4.8-7.7); compiled on its own, 0 of 16
     * (BENCHMARKS.md). {@code AllocationFreeDecodeTest} fails if C2 inlines it.
     */
    private static float twoPartDot(byte[] row, int blocks, byte[] xq, float[] xs, int firstXb) {
        FloatVector lo0 = FloatVector.zero(SPECIES);
        FloatVector hi0 = lo0;
        FloatVector lo1 = lo0;
        FloatVector hi1 = lo0;
        int last = firstXb + blocks - 1;
        for (int xb = firstXb, w = 0; xb <= last; xb += 2, w += 2 * BLOCK_BYTES) {
            int xo = Math.min(xb + 1, last); // the zero block's partner: any block in range
            FloatVector se = FloatVector.broadcast(SPECIES, Float16.lookup(halfBits(row, w)) * xs[xb]);
            FloatVector so = FloatVector.broadcast(SPECIES, Float16.lookup(halfBits(row, w + BLOCK_BYTES)) * xs[xo]);
            // int16 products of each half block, then each int lane's two halves added (exact)
            IntVector pe0 = (IntVector) ((ShortVector) ByteVector.fromArray(HALF_BYTES, row, w + 2)
                    .convertShape(VectorOperators.B2S, SHORTS, 0))
                    .mul((ShortVector) ByteVector.fromArray(HALF_BYTES, xq, xb * BLOCK)
                            .convertShape(VectorOperators.B2S, SHORTS, 0)).reinterpretShape(INTS, 0);
            IntVector pe1 = (IntVector) ((ShortVector) ByteVector.fromArray(HALF_BYTES, row, w + 18)
                    .convertShape(VectorOperators.B2S, SHORTS, 0))
                    .mul((ShortVector) ByteVector.fromArray(HALF_BYTES, xq, xb * BLOCK + 16)
                            .convertShape(VectorOperators.B2S, SHORTS, 0)).reinterpretShape(INTS, 0);
            IntVector po0 = (IntVector) ((ShortVector) ByteVector.fromArray(HALF_BYTES, row, w + BLOCK_BYTES + 2)
                    .convertShape(VectorOperators.B2S, SHORTS, 0))
                    .mul((ShortVector) ByteVector.fromArray(HALF_BYTES, xq, xo * BLOCK)
                            .convertShape(VectorOperators.B2S, SHORTS, 0)).reinterpretShape(INTS, 0);
            IntVector po1 = (IntVector) ((ShortVector) ByteVector.fromArray(HALF_BYTES, row, w + BLOCK_BYTES + 18)
                    .convertShape(VectorOperators.B2S, SHORTS, 0))
                    .mul((ShortVector) ByteVector.fromArray(HALF_BYTES, xq, xo * BLOCK + 16)
                            .convertShape(VectorOperators.B2S, SHORTS, 0)).reinterpretShape(INTS, 0);
            lo0 = ((FloatVector) pe0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(pe0.lanewise(VectorOperators.ASHR, 16)).convertShape(VectorOperators.I2F, SPECIES, 0)).fma(se, lo0);
            hi0 = ((FloatVector) pe1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(pe1.lanewise(VectorOperators.ASHR, 16)).convertShape(VectorOperators.I2F, SPECIES, 0)).fma(se, hi0);
            lo1 = ((FloatVector) po0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(po0.lanewise(VectorOperators.ASHR, 16)).convertShape(VectorOperators.I2F, SPECIES, 0)).fma(so, lo1);
            hi1 = ((FloatVector) po1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(po1.lanewise(VectorOperators.ASHR, 16)).convertShape(VectorOperators.I2F, SPECIES, 0)).fma(so, hi1);
        }
        // lane j (< 8) of the sum: L[j] + L[j+8] of the fold's first step; then its steps 4, 2, 1
        FloatVector v = lo0.add(lo1).add(hi0.add(hi1));
        v = v.add(v.rearrange(HALF_DOWN_4));
        v = v.add(v.rearrange(HALF_DOWN_2));
        v = v.add(v.rearrange(HALF_DOWN_1));
        return v.lane(0);
    }

    // lane j+k moved to lane j of an eight-lane (256-bit) vector: twoPartDot's fold; null at other widths
    private static final VectorShuffle<Float> HALF_DOWN_4 = halfDown(4);
    private static final VectorShuffle<Float> HALF_DOWN_2 = halfDown(2);
    private static final VectorShuffle<Float> HALF_DOWN_1 = halfDown(1);

    private static VectorShuffle<Float> halfDown(int k) {
        return FixedLaneDot.PARTS != 2 ? null : VectorShuffle.fromOp(SPECIES, j -> (j + k) % FixedLaneDot.LEN);
    }

    /**
     * {@link #twoPartDot} on decode rows in pair order ({@link #withHeapRows}), an even number of
     * blocks. Each 16-byte half of a block widens to sixteen int16 lanes; the two halves' products
     * added give every lane's pair sum, exact in int16 (|w| &lt;= 128 and |x| &lt;= 127, so
     * |w0 x0 + w1 x1| &lt;= 32,512). Read as eight int lanes, the low halves hold lanes 0-7 and the
     * high halves lanes 8-15 of {@link FixedLaneDot}'s order: the same pair sums times the same
     * scales in the same four fma chains, so the same bits, written to {@code lanes} for the caller's
     * fold. Written out to stay above FreqInlineSize, as {@code twoPartDot} is.
     */
    private static void pairDot(byte[] q, int q0, float[] scales, int s0, int blocks, byte[] xp, float[] xs,
            int firstXb, float[] lanes) {
        FloatVector lo0 = FloatVector.zero(SPECIES);
        FloatVector hi0 = lo0;
        FloatVector lo1 = lo0;
        FloatVector hi1 = lo0;
        int end = firstXb + blocks;
        for (int xb = firstXb, w = q0, s = s0; xb < end; xb += 2, w += 2 * BLOCK, s += 2) {
            FloatVector se = FloatVector.broadcast(SPECIES, scales[s] * xs[xb]);
            FloatVector so = FloatVector.broadcast(SPECIES, scales[s + 1] * xs[xb + 1]);
            int xe = xb * BLOCK;
            IntVector pe = (IntVector) ((ShortVector) ByteVector.fromArray(HALF_BYTES, q, w)
                    .convertShape(VectorOperators.B2S, SHORTS, 0))
                    .mul((ShortVector) ByteVector.fromArray(HALF_BYTES, xp, xe).convertShape(VectorOperators.B2S, SHORTS, 0))
                    .add(((ShortVector) ByteVector.fromArray(HALF_BYTES, q, w + 16)
                            .convertShape(VectorOperators.B2S, SHORTS, 0))
                            .mul((ShortVector) ByteVector.fromArray(HALF_BYTES, xp, xe + 16)
                                    .convertShape(VectorOperators.B2S, SHORTS, 0)))
                    .reinterpretShape(INTS, 0);
            IntVector po = (IntVector) ((ShortVector) ByteVector.fromArray(HALF_BYTES, q, w + BLOCK)
                    .convertShape(VectorOperators.B2S, SHORTS, 0))
                    .mul((ShortVector) ByteVector.fromArray(HALF_BYTES, xp, xe + BLOCK)
                            .convertShape(VectorOperators.B2S, SHORTS, 0))
                    .add(((ShortVector) ByteVector.fromArray(HALF_BYTES, q, w + BLOCK + 16)
                            .convertShape(VectorOperators.B2S, SHORTS, 0))
                            .mul((ShortVector) ByteVector.fromArray(HALF_BYTES, xp, xe + BLOCK + 16)
                                    .convertShape(VectorOperators.B2S, SHORTS, 0)))
                    .reinterpretShape(INTS, 0);
            lo0 = ((FloatVector) pe.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .convertShape(VectorOperators.I2F, SPECIES, 0)).fma(se, lo0);
            hi0 = ((FloatVector) pe.lanewise(VectorOperators.ASHR, 16)
                    .convertShape(VectorOperators.I2F, SPECIES, 0)).fma(se, hi0);
            lo1 = ((FloatVector) po.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .convertShape(VectorOperators.I2F, SPECIES, 0)).fma(so, lo1);
            hi1 = ((FloatVector) po.lanewise(VectorOperators.ASHR, 16)
                    .convertShape(VectorOperators.I2F, SPECIES, 0)).fma(so, hi1);
        }
        lo0.add(lo1).intoArray(lanes, 0);
        hi0.add(hi1).intoArray(lanes, FixedLaneDot.LEN);
    }

    /**
     * The 512-bit int8 dot on decode rows in block-pair order ({@link #withHeapRows}): an even number
     * of blocks from an even block, against activations from an even block. Each 32-byte half of a
     * pair of blocks widens to 32 int16 lanes; the two halves' products added give, exact in int16,
     * the even block's pair sum k at lane 2k and the odd block's at 2k+1: the low and high halves
     * of sixteen int lanes. So the even and odd fma chains of the in-place path get the same pair
     * sums times the same scales, and the fold is the same: the same bits. Written out, as
     * {@link #pairDot} is.
     */
    private static float blockPairDot(byte[] q, int q0, float[] scales, int s0, int blocks, byte[] xp, float[] xs,
            int firstXb) {
        FloatVector even = FloatVector.zero(SPECIES);
        FloatVector odd = even;
        int end = firstXb + blocks;
        for (int xb = firstXb, w = q0, s = s0; xb < end; xb += 2, w += 2 * BLOCK, s += 2) {
            FloatVector se = FloatVector.broadcast(SPECIES, scales[s] * xs[xb]);
            FloatVector so = FloatVector.broadcast(SPECIES, scales[s + 1] * xs[xb + 1]);
            int xe = xb * BLOCK;
            IntVector p = (IntVector) ((ShortVector) ByteVector.fromArray(HALF_BYTES, q, w)
                    .convertShape(VectorOperators.B2S, SHORTS, 0))
                    .mul((ShortVector) ByteVector.fromArray(HALF_BYTES, xp, xe).convertShape(VectorOperators.B2S, SHORTS, 0))
                    .add(((ShortVector) ByteVector.fromArray(HALF_BYTES, q, w + BLOCK)
                            .convertShape(VectorOperators.B2S, SHORTS, 0))
                            .mul((ShortVector) ByteVector.fromArray(HALF_BYTES, xp, xe + BLOCK)
                                    .convertShape(VectorOperators.B2S, SHORTS, 0)))
                    .reinterpretShape(INTS, 0);
            even = ((FloatVector) p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .convertShape(VectorOperators.I2F, SPECIES, 0)).fma(se, even);
            odd = ((FloatVector) p.lanewise(VectorOperators.ASHR, 16)
                    .convertShape(VectorOperators.I2F, SPECIES, 0)).fma(so, odd);
        }
        FloatVector acc = even.add(odd);
        acc = acc.add(acc.rearrange(FixedLaneDot.DOWN_8));
        acc = acc.add(acc.rearrange(FixedLaneDot.DOWN_4));
        acc = acc.add(acc.rearrange(FixedLaneDot.DOWN_2));
        acc = acc.add(acc.rearrange(FixedLaneDot.DOWN_1));
        return acc.lane(0);
    }

    /** The f16 bits at {@code row[at]} (little-endian). */
    private static short halfBits(byte[] row, int at) {
        return (short) ((row[at] & 0xFF) | (row[at + 1] << 8));
    }

    /**
     * {@link #pairSums(int, Q8Activations, int)} on a part of a row copy. (The shorter pair sum
     * ((p &lt;&lt; 16) + p) &gt;&gt; 16 is not used: in Q6_K it once gave a wrong sum after C2 had compiled
     * the kernel in a model's decode; see {@link Q6_KTensor}.)
     */
    private static FloatVector pairSums(byte[] row, int w, byte[] xq, int xb, int part) {
        ShortVector wv = (ShortVector) ByteVector.fromArray(HALF_BYTES, row, w + 2 + part * HALF_BYTES.length())
                .convertShape(VectorOperators.B2S, SHORTS, 0);
        ShortVector q = (ShortVector) ByteVector.fromArray(HALF_BYTES, xq, xb * BLOCK + part * HALF_BYTES.length())
                .convertShape(VectorOperators.B2S, SHORTS, 0);
        IntVector pairs = (IntVector) wv.mul(q).reinterpretShape(INTS, 0);
        return (FloatVector) pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .add(pairs.lanewise(VectorOperators.ASHR, 16)).convertShape(VectorOperators.I2F, SPECIES, 0);
    }

    /**
     * Lane q = w[2q]*x[2q] + w[2q+1]*x[2q+1] over the 32 bytes of one block read in place (the
     * 512-bit path, whose sixteen lanes cover a block; exact in int), as floats: the int8 products
     * widened to int16 (|product| &lt;= 128 * 128 fits), each int lane's two int16 halves added.
     */
    private FloatVector pairSums(int block, Q8Activations x, int xb) {
        ShortVector w = (ShortVector) ByteVector.fromByteBuffer(HALF_BYTES, data, block + 2, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2S, SHORTS, 0);
        ShortVector q = (ShortVector) ByteVector.fromArray(HALF_BYTES, x.quants, xb * BLOCK)
                .convertShape(VectorOperators.B2S, SHORTS, 0);
        IntVector pairs = (IntVector) w.mul(q).reinterpretShape(INTS, 0);
        return (FloatVector) pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .add(pairs.lanewise(VectorOperators.ASHR, 16)).convertShape(VectorOperators.I2F, SPECIES, 0);
    }

    /** The int8 dot's order in scalar code: sixteen pair-sum lanes, two block chains each, the fixed fold. */
    private float scalarDotQ8(int block, Q8Activations x, int xb, int blocks) {
        float[] lanes = FixedLaneDot.zeroLanes();
        float[] odd = new float[FixedLaneDot.LANES]; // the scalar fallback only
        for (int b = 0; b < blocks; b++, block += BLOCK_BYTES, xb++) {
            float scale = Float16.lookup(data.getShort(block)) * x.scales[xb];
            float[] chain = (b & 1) == 0 ? lanes : odd;
            for (int j = 0; j < FixedLaneDot.LANES; j++) {
                int e = 2 * j;
                int pair = data.get(block + 2 + e) * x.quants[xb * BLOCK + e]
                        + data.get(block + 3 + e) * x.quants[xb * BLOCK + e + 1];
                chain[j] = Math.fma((float) pair, scale, chain[j]);
            }
        }
        for (int j = 0; j < FixedLaneDot.LANES; j++) {
            lanes[j] = lanes[j] + odd[j];
        }
        return FixedLaneDot.fold(lanes, 0);
    }
}
