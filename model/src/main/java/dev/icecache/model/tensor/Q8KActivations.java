package dev.icecache.model.tensor;

import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * A float vector quantized to Q8_K blocks, as ggml quantizes the activation vector before a
 * K-quant x int8 matrix-vector product, on ggml's grid ({@code quantize_row_q8_K_ref}): per block
 * of 256, with m the element of largest magnitude, scale {@code d = -m / 128} and
 * {@code q = min(127, round-half-even(x * (-128 / m)))}, so m becomes -128 and every element is off
 * by at most |d| / 2, but for elements of m's opposite sign and magnitude above 127 |d|, which
 * clamp to 127 (off by at most |d|); plus the sum of each 16 consecutive values (ggml's
 * {@code bsums}), which the
 * Q4_K and Q5_K dots multiply by their sub-block mins. The int8 values are stored widened to
 * {@code short} so that every weight row reads them without converting them again. The buffers
 * are allocated once for a maximum length and refilled by {@link #quantize}, so a decode step
 * allocates nothing.
 *
 * <p>The K-quant int8 dots ({@link Q8KDot}) sum each super-block's products exactly in
 * {@code int} and only then multiply by the float scales, one super-block after the other: the
 * integer part has no order, so the result has the same bits at every vector width, scalar
 * included.
 */
public final class Q8KActivations {

    /** Elements per block; equals the K-quant super-block so that blocks pair up one to one. */
    public static final int BLOCK = 256;
    /** Elements per partial sum. */
    static final int SUM_GROUP = 16;

    // the int8 kernels: per step, 2 * (float lanes) elements as shorts, multiplied, and each int
    // lane's two int16 products summed: as many int lanes as float lanes (null when vectors are off)
    static final VectorSpecies<Integer> INTS = FloatTensor.SPECIES == null ? null
            : VectorSpecies.of(int.class, FloatTensor.SPECIES.vectorShape());
    static final VectorSpecies<Short> SHORTS = FloatTensor.SPECIES == null ? null
            : VectorSpecies.of(short.class, FloatTensor.SPECIES.vectorShape());
    static final VectorSpecies<Byte> HALF_BYTES = FloatTensor.SPECIES == null ? null
            : VectorSpecies.of(byte.class, VectorShape.forBitSize(FloatTensor.SPECIES.vectorBitSize() / 2));
    /** Elements per step of the int8 kernels: the shorts of one vector. */
    static final int STEP = SHORTS == null ? 0 : SHORTS.length();

    final short[] quants;
    final float[] scales;
    final int[] sums;

    /** Buffers for vectors of up to {@code capacity} elements (a multiple of {@link #BLOCK}). */
    public Q8KActivations(int capacity) {
        if (capacity < 0 || capacity % BLOCK != 0) {
            throw new IllegalArgumentException("capacity " + capacity + " must be a non-negative multiple of " + BLOCK);
        }
        this.quants = new short[capacity];
        this.scales = new float[capacity / BLOCK];
        this.sums = new int[capacity / SUM_GROUP];
    }

    /** Elements the buffers hold at most. */
    public int capacity() {
        return quants.length;
    }

    /**
     * Quantizes {@code x[xOff .. xOff+n)} into these buffers at element {@code at} (a block
     * boundary), so several vectors can share one buffer.
     */
    public void quantize(float[] x, int xOff, int n, int at) {
        if (n % BLOCK != 0 || at % BLOCK != 0 || at < 0 || (long) at + n > quants.length) {
            throw new IllegalArgumentException("cannot quantize " + n + " elements at " + at + " into capacity "
                    + quants.length + ": both must be multiples of " + BLOCK + " and fit");
        }
        for (int b = 0; b < n; b += BLOCK) {
            float amax = 0f;
            float max = 0f;
            for (int i = 0; i < BLOCK; i++) {
                float ax = Math.abs(x[xOff + b + i]);
                if (ax > amax) {
                    amax = ax;
                    max = x[xOff + b + i];
                }
            }
            // the same float operations as ggml, so that both engines round to the same integers
            float iscale = amax == 0f ? 0f : -128f / max;
            scales[(at + b) / BLOCK] = amax == 0f ? 0f : 1f / iscale;
            for (int g = 0; g < BLOCK; g += SUM_GROUP) {
                int sum = 0;
                for (int i = g; i < g + SUM_GROUP; i++) {
                    int q = Math.min(127, (int) Math.rint(iscale * x[xOff + b + i]));
                    quants[at + b + i] = (short) q;
                    sum += q;
                }
                sums[(at + b + g) / SUM_GROUP] = sum;
            }
        }
    }

    /** The quantized value of element i: scale times int8. */
    public float get(int i) {
        return scales[i / BLOCK] * quants[i];
    }

    /**
     * Throws unless {@code n} elements of tensor {@code t} from {@code offset} and of this vector
     * from {@code xOff} are whole blocks within both.
     */
    void checkRange(FloatTensor t, long offset, int xOff, int n) {
        if (offset % BLOCK != 0 || n % BLOCK != 0 || xOff % BLOCK != 0 || offset < 0 || n < 0 || offset + n > t.size()
                || xOff < 0 || (long) xOff + n > quants.length) {
            throw new IllegalArgumentException("int8 dot of tensor '" + t.name() + "': offset " + offset + ", xOff " + xOff
                    + " and n " + n + " must be multiples of " + BLOCK + " within the tensor and the vector");
        }
    }
}
