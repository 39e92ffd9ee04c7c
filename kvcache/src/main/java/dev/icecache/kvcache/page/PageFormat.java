package dev.icecache.kvcache.page;

/**
 * How a page's floats are stored in a {@link PageStore}. Resident pages are always float32:
 * a store that keeps BF16 widens on read ({@link #widen}) and narrows on write ({@link #narrow}).
 *
 * <pre>
 *   F32   4 bytes per float, exact
 *   BF16  2 bytes per float: the upper half of the float32 bits, rounded to nearest even;
 *         NaN stays NaN (quieted), +-Inf and -0.0 are kept, finite values past the largest
 *         BF16 round to +-Inf as IEEE rounding requires
 * </pre>
 */
public enum PageFormat {
    /** IEEE float32, bit exact. */
    F32(4),
    /** bfloat16 (8 exponent bits, 7 mantissa bits). */
    BF16(2);

    private final int bytesPerFloat;

    PageFormat(int bytesPerFloat) {
        this.bytesPerFloat = bytesPerFloat;
    }

    /** Bytes one float occupies in this format. */
    public int bytesPerFloat() {
        return bytesPerFloat;
    }

    /** The BF16 bits of {@code f}, rounded to nearest, ties to even. */
    public static short narrow(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fff_ffff) > 0x7f80_0000) {
            // NaN: keep sign and the top payload bits, force the quiet bit so it cannot round to Inf
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** The float32 value of BF16 bits {@code b} (exact: BF16 is a prefix of float32). */
    public static float widen(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    /** {@code f} as it reads back after a round trip through this format. */
    public float roundTrip(float f) {
        return this == F32 ? f : widen(narrow(f));
    }
}
