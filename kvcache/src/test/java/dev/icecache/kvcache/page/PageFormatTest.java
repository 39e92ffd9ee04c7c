package dev.icecache.kvcache.page;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PageFormatTest {

    private static int bits(float f) {
        return Float.floatToRawIntBits(f);
    }

    @Test
    void shouldKeepSpecialValuesThroughBf16() {
        assertEquals(0x7f80, PageFormat.narrow(Float.POSITIVE_INFINITY) & 0xffff);
        assertEquals(0xff80, PageFormat.narrow(Float.NEGATIVE_INFINITY) & 0xffff);
        assertEquals(0x8000, PageFormat.narrow(-0.0f) & 0xffff);
        assertEquals(0x0000, PageFormat.narrow(0.0f) & 0xffff);
        assertEquals(bits(-0.0f), bits(PageFormat.BF16.roundTrip(-0.0f)));
        assertTrue(Float.isNaN(PageFormat.BF16.roundTrip(Float.NaN)));
        // a NaN whose payload sits only in the low 16 bits must not collapse into Inf
        assertTrue(Float.isNaN(PageFormat.BF16.roundTrip(Float.intBitsToFloat(0x7f80_0001))));
        assertTrue(Float.isNaN(PageFormat.BF16.roundTrip(Float.intBitsToFloat(0xff80_0001))));
    }

    @Test
    void shouldRoundToNearestEvenWhenExactlyHalfway() {
        // 1 + 2^-8 lies halfway between 1 (0x3F80, even) and 1 + 2^-7 (0x3F81): goes to 0x3F80
        assertEquals(0x3f80, PageFormat.narrow(1f + 0x1p-8f) & 0xffff);
        // 1 + 3*2^-8 lies halfway between 0x3F81 (odd) and 0x3F82 (even): goes to 0x3F82
        assertEquals(0x3f82, PageFormat.narrow(1f + 3 * 0x1p-8f) & 0xffff);
        // just above halfway rounds up
        assertEquals(0x3f81, PageFormat.narrow(Math.nextUp(1f + 0x1p-8f)) & 0xffff);
        // the largest float rounds past the largest BF16 to +Inf
        assertEquals(0x7f80, PageFormat.narrow(Float.MAX_VALUE) & 0xffff);
        // the smallest subnormal rounds to zero (half of BF16's smallest step is far above it)
        assertEquals(0x0000, PageFormat.narrow(Float.MIN_VALUE) & 0xffff);
    }

    @Test
    void shouldRoundWithinHalfAnUlpOfBf16ForRandomFloats() {
        long seed = 20261128L;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < 100_000; i++) {
            float f = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(-20, 20)));
            float r = PageFormat.BF16.roundTrip(f);
            // the two BF16 neighbours of f: truncation towards zero and one BF16 step further out
            float down = Float.intBitsToFloat(bits(f) & 0xffff_0000);
            float up = Float.intBitsToFloat((bits(f) & 0xffff_0000) + 0x1_0000);
            assertTrue(r == down || r == up, "seed=" + seed + " f=" + f + " r=" + r);
            float other = r == down ? up : down;
            assertTrue(Math.abs((double) r - f) <= Math.abs((double) other - f), "seed=" + seed + " f=" + f);
            assertEquals(0, bits(r) & 0xffff, "seed=" + seed + " f=" + f);
        }
    }

    @Test
    void shouldLeaveF32Untouched() {
        float f = Float.intBitsToFloat(0x3f80_1234);
        assertEquals(bits(f), bits(PageFormat.F32.roundTrip(f)));
    }
}
