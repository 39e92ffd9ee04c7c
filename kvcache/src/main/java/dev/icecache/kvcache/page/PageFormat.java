package dev.icecache.kvcache.page;

/**
 * How a page's floats are stored in a {@link PageStore}. Resident pages are always float32:
 * a store that keeps BF16 widens on read ({@link #widen}) and narrows on write ({@link #narrow}).
 *
 * <pre>
 *   format  code  bytes
 *   F32     0     4 per float, exact
 *   BF16    1     2 per float: the upper half of the float32 bits, rounded to nearest even;
 *         NaN stays NaN (quieted), +-Inf and -0.0 are kept, finite values past the largest
 *         BF16 round to +-Inf as IEEE rounding requires
 * </pre>
 *
 * Saved formats (cache snapshot headers, page store files, serialized pages) store the
 * {@link #code()}, never the ordinal: codes are frozen, the declaration order is not.
 */
public enum PageFormat {
    /** IEEE float32, bit exact. */
    F32(0, 4),
    /** bfloat16 (8 exponent bits, 7 mantissa bits). */
    BF16(1, 2);

    private final int code;
    private final int bytesPerFloat;

    PageFormat(int code, int bytesPerFloat) {
        this.code = code;
        this.bytesPerFloat = bytesPerFloat;
    }

    /** The stable code saved formats store for this format (F32 = 0, BF16 = 1; never reused). */
    public int code() {
        return code;
    }

    /**
     * The format saved as {@code code}.
     *
     * @throws IllegalArgumentException naming the code when no format has it (corrupt or newer data)
     */
    public static PageFormat ofCode(int code) {
        for (PageFormat f : values()) {
            if (f.code == code) {
                return f;
            }
        }
        throw new IllegalArgumentException("page format code=" + code + " is unknown (0 F32, 1 BF16); the data is"
                + " corrupt or was written by a newer version");
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
