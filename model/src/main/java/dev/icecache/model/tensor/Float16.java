package dev.icecache.model.tensor;

/**
 * Conversions between binary32 and the two 16-bit float formats of ggml (Java 17 has no
 * {@code Float.float16ToFloat}). Rounding is to nearest, ties to even, as ggml and numpy do.
 */
public final class Float16 {

    /** Every binary16 value as float, indexed by its bits: block scales are decoded by lookup in hot loops. */
    private static final float[] HALF_TO_FLOAT = new float[1 << 16];

    static {
        for (int h = 0; h < HALF_TO_FLOAT.length; h++) {
            HALF_TO_FLOAT[h] = toFloat((short) h);
        }
    }

    private Float16() {
    }

    /** The same as {@link #toFloat} through a table (one load, no branches). */
    static float lookup(short half) {
        return HALF_TO_FLOAT[half & 0xffff];
    }

    /** IEEE binary16 bits to float, exact for every input (subnormals, infinities, NaN). */
    public static float toFloat(short half) {
        int bits = half & 0xffff;
        int exp = (bits >>> 10) & 0x1f;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(((bits & 0x8000) << 16) | 0x7f800000 | ((bits & 0x3ff) << 13));
        }
        // Shifting exponent and mantissa into binary32 position reads the value scaled by 2^-112
        // (the bias difference); scaling back is exact for normals and subnormals alike.
        float magnitude = Float.intBitsToFloat((bits & 0x7fff) << 13) * 0x1p112f;
        return (bits & 0x8000) != 0 ? -magnitude : magnitude;
    }

    /** Float to IEEE binary16 bits, rounding to nearest even; overflow gives infinity. */
    public static short fromFloat(float value) {
        int x = Float.floatToRawIntBits(value);
        int sign = (x >>> 16) & 0x8000;
        int abs = x & 0x7fffffff;
        if (abs >= 0x7f800000) {
            int nan = abs > 0x7f800000 ? 0x200 | ((abs >>> 13) & 0x3ff) : 0;
            return (short) (sign | 0x7c00 | nan);
        }
        if (abs >= 0x477ff000) {
            return (short) (sign | 0x7c00); // >= 65520 rounds to infinity
        }
        if (abs < 0x38800000) {
            // half subnormal (or zero): the value in units of 2^-24, rounded to nearest even
            int units = (int) Math.rint(Float.intBitsToFloat(abs) * 0x1p24);
            return (short) (sign | units);
        }
        int half = ((((abs >>> 23) - 127 + 15)) << 10) | ((abs & 0x7fffff) >>> 13);
        int rest = abs & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
            half++; // a carry into the exponent is the correct rounding
        }
        return (short) (sign | half);
    }

    /** bfloat16 bits to float (exact). */
    public static float bf16ToFloat(short bf16) {
        return Float.intBitsToFloat((bf16 & 0xffff) << 16);
    }

    /** Float to bfloat16 bits, rounding to nearest even; NaN stays NaN. */
    public static short floatToBf16(float value) {
        int x = Float.floatToRawIntBits(value);
        if ((x & 0x7fffffff) > 0x7f800000) {
            return (short) ((x >>> 16) | 0x40);
        }
        return (short) ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16);
    }
}
