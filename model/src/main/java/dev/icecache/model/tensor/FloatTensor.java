package dev.icecache.model.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * A read-only tensor of {@link #size()} elements stored in a little-endian byte buffer in one
 * ggml format (usually a memory-mapped region of a model file; Q8_0 tensors may add decode rows on
 * the heap, {@link Q8_0Tensor#withHeapRows}).
 * Elements are addressed by a flat index; a row-major matrix of {@code cols} columns has its
 * row r at {@code r * cols}.
 *
 * <p>{@link #getFloat} is the reference decoding; {@link #dot} is the fast path (Vector API)
 * and must agree with {@link #scalarDot} up to float rounding. Vector width is the constant
 * {@link #SPECIES}: the platform's preferred float shape, or the one named by the system property
 * {@code icecache.vectorBitSize} (128, 256 or 512; 0 turns the Vector API off). The property is for
 * the width tests: it narrows these kernels only, while kvcache's attention keeps the preferred
 * width, and two float widths on one hot path can make C2 box vectors. To run the whole engine as
 * narrower hardware would, cap the JVM's vectors instead ({@code -XX:MaxVectorSize=32} or {@code 16}).
 */
public abstract sealed class FloatTensor permits F32Tensor, F16Tensor, BF16Tensor, Q8_0Tensor, Q4_0Tensor,
        Q5_0Tensor, Q5_1Tensor, Q4_KTensor, Q5_KTensor, Q6_KTensor {

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
            case Q5_0 -> new Q5_0Tensor(name, slice, size);
            case Q5_1 -> new Q5_1Tensor(name, slice, size);
            case Q4_K -> new Q4_KTensor(name, slice, size);
            case Q5_K -> new Q5_KTensor(name, slice, size);
            case Q6_K -> new Q6_KTensor(name, slice, size);
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
