package dev.icecache.model.tensor;

/**
 * A float vector quantized to Q8_0 blocks (32 int8 values and one float scale per block), as
 * ggml quantizes the activation vector before an int8 x int8 matrix-vector product. The
 * buffers are allocated once for a maximum length and refilled by {@link #quantize}, so a
 * decode step allocates nothing.
 *
 * <p>Each element is rounded to the nearest multiple of its block's scale {@code d = max|x| / 127},
 * so it is off by at most {@code d / 2}.
 */
public final class Q8Activations {

    /** Elements per block; equals the Q8_0 weight block so that blocks pair up one to one. */
    public static final int BLOCK = 32;

    final byte[] quants;
    final float[] scales;
    // the quants in the order of the decode rows on the heap (pair order at 256 bits, block-pair
    // order at 512); empty where the int8 dot never reads them (128 bits, scalar), so quantize skips them
    final byte[] pairQuants;

    /** Buffers for vectors of up to {@code capacity} elements (a multiple of {@link #BLOCK}). */
    public Q8Activations(int capacity) {
        if (capacity < 0 || capacity % BLOCK != 0) {
            throw new IllegalArgumentException("capacity " + capacity + " must be a non-negative multiple of " + BLOCK);
        }
        this.quants = new byte[capacity];
        // block-pair order fills whole pairs of blocks
        this.pairQuants = new byte[!Q8_0Tensor.readsHeapRows() ? 0
                : Q8_0Tensor.blockPairOrder() ? capacity + capacity % (2 * BLOCK) : capacity];
        this.scales = new float[capacity / BLOCK];
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
            for (int i = 0; i < BLOCK; i++) {
                amax = Math.max(amax, Math.abs(x[xOff + b + i]));
            }
            float d = amax / 127f;
            float inv = d == 0f ? 0f : 1f / d;
            scales[(at + b) / BLOCK] = d;
            for (int i = 0; i < BLOCK; i++) {
                quants[at + b + i] = (byte) Math.round(x[xOff + b + i] * inv);
            }
            if (pairQuants.length == 0) {
                continue;
            }
            if (Q8_0Tensor.blockPairOrder()) {
                toBlockPairOrder(quants, at + b, pairQuants, (at + b) / BLOCK);
            } else {
                toPairOrder(quants, at + b, pairQuants, at + b);
            }
        }
    }

    /** The quantized value of element i: scale times int8. */
    public float get(int i) {
        return scales[i / BLOCK] * quants[i];
    }

    /**
     * A block's 32 int8 values {@code q} from {@code src[s]} written to {@code dst[d]} in pair order:
     * the first 16 bytes hold q[2k] at 2k and q[2k+16] at 2k+1, the next 16 hold q[2k+1] and q[2k+17]
     * (k = 0..7). Widened to int16 and multiplied half by half with a vector in the same order, the
     * two halves' sum holds lane k's pair sum (q[2k] x[2k] + q[2k+1] x[2k+1]) at int16 lane 2k and
     * lane k+8's at 2k+1: the low and high halves of eight int lanes.
     */
    static void toPairOrder(byte[] src, int s, byte[] dst, int d) {
        for (int k = 0; k < 8; k++) {
            dst[d + 2 * k] = src[s + 2 * k];
            dst[d + 2 * k + 1] = src[s + 2 * k + 16];
            dst[d + 16 + 2 * k] = src[s + 2 * k + 1];
            dst[d + 16 + 2 * k + 1] = src[s + 2 * k + 17];
        }
    }

    /**
     * Block {@code block}'s 32 int8 values {@code q} from {@code src[s]} written into its pair of blocks
     * in {@code dst} in block-pair order: a pair of blocks (e, o) takes 64 bytes, the first 32 holding
     * e[2k] at 2k and o[2k] at 2k+1, the next 32 holding e[2k+1] and o[2k+1] (k = 0..15). Widened to
     * int16 and multiplied half by half with a vector in the same order, the two halves' sum holds
     * e's pair sum k (e[2k] x[2k] + e[2k+1] x[2k+1]) at int16 lane 2k and o's at 2k+1: the low and
     * high halves of sixteen int lanes.
     */
    static void toBlockPairOrder(byte[] src, int s, byte[] dst, int block) {
        int d = (block & ~1) * BLOCK + (block & 1);
        for (int k = 0; k < 16; k++) {
            dst[d + 2 * k] = src[s + 2 * k];
            dst[d + BLOCK + 2 * k] = src[s + 2 * k + 1];
        }
    }
}
