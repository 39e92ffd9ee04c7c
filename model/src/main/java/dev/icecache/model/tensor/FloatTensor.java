package dev.icecache.model.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * A read-only tensor of {@link #size()} elements stored in a little-endian byte buffer in one
 * ggml format (usually a memory-mapped region of a model file, never copied to the heap).
 * Elements are addressed by a flat index; a row-major matrix of {@code cols} columns has its
 * row r at {@code r * cols}.
 *
 * <p>{@link #getFloat} is the reference decoding; {@link #dot} is the fast path (Vector API)
 * and must agree with {@link #scalarDot} up to float rounding. Vector width is the constant
 * {@link #SPECIES}: the platform's preferred float shape, or the one named by the system property
 * {@code icecache.vectorBitSize} (128, 256 or 512; 0 turns the Vector API off).
 */
public abstract sealed class FloatTensor permits F32Tensor, F16Tensor, BF16Tensor, Q8_0Tensor, Q4_0Tensor {

    /** Float species of the vector kernels, or null when they are off (scalar dot only). */
    static final VectorSpecies<Float> SPECIES = chooseSpecies();

    /** The tensor's name in its file, for error messages. */
    protected final String name;
    /** Little-endian view of the tensor's bytes; absolute reads only, so sharing across threads is safe. */
    protected final ByteBuffer data;
    private final long size;

    FloatTensor(String name, ByteBuffer data, long size) {
        this.name = name;
        this.data = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        this.size = size;
    }

    /**
     * Wraps {@code data} (exactly {@code type.byteSizeFor(size)} bytes) as a tensor of that type.
     *
     * @throws IllegalArgumentException when the byte count does not match the element count
     */
    public static FloatTensor of(String name, GgmlType type, ByteBuffer data, long size) {
        long bytes = type.byteSizeFor(size);
        if (data.remaining() != bytes) {
            throw new IllegalArgumentException("tensor '" + name + "': " + type + " with " + size
                    + " elements needs " + bytes + " bytes but got " + data.remaining());
        }
        ByteBuffer slice = data.slice();
        return switch (type) {
            case F32 -> new F32Tensor(name, slice, size);
            case F16 -> new F16Tensor(name, slice, size);
            case BF16 -> new BF16Tensor(name, slice, size);
            case Q8_0 -> new Q8_0Tensor(name, slice, size);
            case Q4_0 -> new Q4_0Tensor(name, slice, size);
        };
    }

    /** The element type. */
    public abstract GgmlType type();

    /** Element count. */
    public final long size() {
        return size;
    }

    /** The tensor's name in its file. */
    public final String name() {
        return name;
    }

    /**
     * The tensor's bytes in its ggml layout ({@code type().byteSizeFor(size())} of them,
     * little-endian): a read-only view of the mapped data, not a copy, with its own position, so
     * an accelerator can upload quantized blocks as they are stored.
     */
    public final ByteBuffer rawBytes() {
        long bytes = type().byteSizeFor(size);
        ByteBuffer view = data.asReadOnlyBuffer();
        view.position(0).limit(Math.toIntExact(bytes));
        return view.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The element at a flat index: the reference decoding of the format. */
    public abstract float getFloat(long index);

    /**
     * Dot product of elements {@code [offset, offset+n)} with {@code x[xOff .. xOff+n)}, through the
     * Vector API when it is on.
     */
    public final float dot(long offset, float[] x, int xOff, int n) {
        assert offset >= 0 && offset + n <= size : "dot range offset=" + offset + " n=" + n + " size=" + size;
        return kernelDot(offset, x, xOff, n);
    }

    /**
     * The dot's kernel: by default {@link #vectorDot} where the Vector API is on, else
     * {@link #scalarDot}. Types whose dot follows {@link FixedLaneDot}'s order (identical bits at
     * every vector width, scalar included) override it.
     */
    float kernelDot(long offset, float[] x, int xOff, int n) {
        return SPECIES == null ? scalarDot(offset, x, xOff, n) : vectorDot(offset, x, xOff, n);
    }

    /** The reference dot product: {@link #getFloat} times x, summed left to right in float. */
    public final float scalarDot(long offset, float[] x, int xOff, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += getFloat(offset + i) * x[xOff + i];
        }
        return sum;
    }

    /** Decodes elements {@code [offset, offset+n)} into {@code dst[dstOff ..]}. */
    public void copyTo(long offset, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = getFloat(offset + i);
        }
    }

    abstract float vectorDot(long offset, float[] x, int xOff, int n);

    /** Vector dot product of two heap float runs (used by batched matrix products on decoded rows). */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        float sum = 0f;
        if (SPECIES != null) {
            int len = SPECIES.length();
            FloatVector acc = FloatVector.zero(SPECIES);
            for (int upper = SPECIES.loopBound(n); i < upper; i += len) {
                acc = FloatVector.fromArray(SPECIES, a, aOff + i).fma(FloatVector.fromArray(SPECIES, b, bOff + i), acc);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /**
     * Four dot products of one heap row with four vectors at once (the row is loaded once for
     * all four): {@code out[outOff + k*outStride] = a[aOff ..+n) . x[xOff + k*xStride ..+n)} for k in 0..3.
     */
    public static void dot4(float[] a, int aOff, float[] x, int xOff, int xStride, int n,
                            float[] out, int outOff, int outStride) {
        int i = 0;
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        if (SPECIES != null) {
            int len = SPECIES.length();
            FloatVector acc0 = FloatVector.zero(SPECIES);
            FloatVector acc1 = FloatVector.zero(SPECIES);
            FloatVector acc2 = FloatVector.zero(SPECIES);
            FloatVector acc3 = FloatVector.zero(SPECIES);
            for (int upper = SPECIES.loopBound(n); i < upper; i += len) {
                FloatVector w = FloatVector.fromArray(SPECIES, a, aOff + i);
                acc0 = w.fma(FloatVector.fromArray(SPECIES, x, xOff + i), acc0);
                acc1 = w.fma(FloatVector.fromArray(SPECIES, x, xOff + xStride + i), acc1);
                acc2 = w.fma(FloatVector.fromArray(SPECIES, x, xOff + 2 * xStride + i), acc2);
                acc3 = w.fma(FloatVector.fromArray(SPECIES, x, xOff + 3 * xStride + i), acc3);
            }
            s0 = acc0.reduceLanes(VectorOperators.ADD);
            s1 = acc1.reduceLanes(VectorOperators.ADD);
            s2 = acc2.reduceLanes(VectorOperators.ADD);
            s3 = acc3.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            float w = a[aOff + i];
            s0 += w * x[xOff + i];
            s1 += w * x[xOff + xStride + i];
            s2 += w * x[xOff + 2 * xStride + i];
            s3 += w * x[xOff + 3 * xStride + i];
        }
        out[outOff] = s0;
        out[outOff + outStride] = s1;
        out[outOff + 2 * outStride] = s2;
        out[outOff + 3 * outStride] = s3;
    }

    /**
     * Eight dot products of two heap rows with four vectors, each row and vector loaded once per
     * lane chunk (the register tile of batched products): for j in 0..1 and k in 0..3,
     * {@code out[outOff + k*outStride + j] = a[aOff + j*aStride ..+n) . x[xOff + k*xStride ..+n)}.
     */
    public static void dot2x4(float[] a, int aOff, int aStride, float[] x, int xOff, int xStride, int n,
                              float[] out, int outOff, int outStride) {
        if (SPECIES == null) {
            dot4(a, aOff, x, xOff, xStride, n, out, outOff, outStride);
            dot4(a, aOff + aStride, x, xOff, xStride, n, out, outOff + 1, outStride);
            return;
        }
        int len = SPECIES.length();
        int upper = SPECIES.loopBound(n);
        FloatVector a0 = FloatVector.zero(SPECIES);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        int a1Off = aOff + aStride;
        for (int i = 0; i < upper; i += len) {
            FloatVector w0 = FloatVector.fromArray(SPECIES, a, aOff + i);
            FloatVector w1 = FloatVector.fromArray(SPECIES, a, a1Off + i);
            FloatVector x0 = FloatVector.fromArray(SPECIES, x, xOff + i);
            a0 = w0.fma(x0, a0);
            b0 = w1.fma(x0, b0);
            FloatVector x1 = FloatVector.fromArray(SPECIES, x, xOff + xStride + i);
            a1 = w0.fma(x1, a1);
            b1 = w1.fma(x1, b1);
            FloatVector x2 = FloatVector.fromArray(SPECIES, x, xOff + 2 * xStride + i);
            a2 = w0.fma(x2, a2);
            b2 = w1.fma(x2, b2);
            FloatVector x3 = FloatVector.fromArray(SPECIES, x, xOff + 3 * xStride + i);
            a3 = w0.fma(x3, a3);
            b3 = w1.fma(x3, b3);
        }
        out[outOff] = a0.reduceLanes(VectorOperators.ADD) + tail(a, aOff, x, xOff, upper, n);
        out[outOff + outStride] = a1.reduceLanes(VectorOperators.ADD) + tail(a, aOff, x, xOff + xStride, upper, n);
        out[outOff + 2 * outStride] = a2.reduceLanes(VectorOperators.ADD) + tail(a, aOff, x, xOff + 2 * xStride, upper, n);
        out[outOff + 3 * outStride] = a3.reduceLanes(VectorOperators.ADD) + tail(a, aOff, x, xOff + 3 * xStride, upper, n);
        out[outOff + 1] = b0.reduceLanes(VectorOperators.ADD) + tail(a, a1Off, x, xOff, upper, n);
        out[outOff + outStride + 1] = b1.reduceLanes(VectorOperators.ADD) + tail(a, a1Off, x, xOff + xStride, upper, n);
        out[outOff + 2 * outStride + 1] = b2.reduceLanes(VectorOperators.ADD) + tail(a, a1Off, x, xOff + 2 * xStride, upper, n);
        out[outOff + 3 * outStride + 1] = b3.reduceLanes(VectorOperators.ADD) + tail(a, a1Off, x, xOff + 3 * xStride, upper, n);
    }

    private static float tail(float[] a, int aOff, float[] x, int xOff, int from, int n) {
        float sum = 0f;
        for (int i = from; i < n; i++) {
            sum += a[aOff + i] * x[xOff + i];
        }
        return sum;
    }

    /**
     * The scalar part of a dot over a block-quantized range that the vector kernel covers only
     * in whole blocks: the {@code head} elements before the first block boundary and whatever
     * follows the {@code body} elements of whole blocks.
     */
    final float scalarEnds(long offset, float[] x, int xOff, int n, int head, int body) {
        float sum = head == 0 ? 0f : scalarDot(offset, x, xOff, head);
        int done = head + body;
        if (done < n) {
            sum += scalarDot(offset + done, x, xOff + done, n - done);
        }
        return sum;
    }

    /** Elements before the first block boundary at or after {@code offset}, at most n. */
    static int headBeforeBlock(long offset, int n, int blockSize) {
        return (int) Math.min(n, Math.floorMod(-offset, (long) blockSize));
    }

    private static VectorSpecies<Float> chooseSpecies() {
        int bits = Integer.getInteger("icecache.vectorBitSize", -1);
        if (bits == 0) {
            return null;
        }
        VectorSpecies<Float> species = bits < 0 ? FloatVector.SPECIES_PREFERRED
                : VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
        // 16 must be a multiple of the lane count for the block kernels; 4, 8 and 16 lanes are.
        if (species.length() < 4 || 16 % species.length() != 0) {
            return null;
        }
        return species;
    }
}
