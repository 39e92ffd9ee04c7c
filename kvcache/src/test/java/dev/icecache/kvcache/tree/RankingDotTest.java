package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link RankingDot} against its documented order and against exact arithmetic. */
class RankingDotTest {

    @Test
    void shouldEqualTheDocumentedOrderBitForBitAtEveryLengthAndOffset() {
        for (long seed = 1; seed <= 400; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int n = (int) (seed % 131);
            int aOff = rnd.nextInt(9);
            int bOff = rnd.nextInt(9);
            float[] a = random(aOff + n + rnd.nextInt(3), rnd);
            float[] b = random(bOff + n + rnd.nextInt(3), rnd);
            float got = RankingDot.dot(a, aOff, b, bOff, n);
            float want = RankingReference.dot(a, aOff, b, bOff, n);
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got),
                    "seed=" + seed + " n=" + n + " aOff=" + aOff + " bOff=" + bOff + " want=" + want + " got=" + got);
        }
    }

    @Test
    void shouldGiveTheSameBitsFromTheScalarAndTheVectorKernel() {
        String noVectors = "this JVM has no 256-bit vectors; only the scalar kernel runs";
        if ("true".equals(System.getenv("CI"))) {
            assertTrue(RankingDotVector.hardwareSupported(), noVectors + " (CI=true: CI must test the vector kernel)");
        }
        assumeTrue(RankingDotVector.hardwareSupported(), noVectors);
        for (long seed = 1; seed <= 400; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int n = (int) (seed % 131);
            int aOff = rnd.nextInt(9);
            int bOff = rnd.nextInt(9);
            float[] a = random(aOff + n, rnd);
            float[] b = random(bOff + n, rnd);
            float want = RankingReference.dot(a, aOff, b, bOff, n);
            String msg = "seed=" + seed + " n=" + n + " aOff=" + aOff + " bOff=" + bOff;
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(RankingDot.scalar(a, aOff, b, bOff, n)),
                    "scalar " + msg);
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(RankingDotVector.dot(a, aOff, b, bOff, n)),
                    "vector " + msg);
        }
    }

    @Test
    void shouldGiveTheSameBitsOverInt8CodesFromTheScalarAndTheVectorKernelAsTheDocumentedOrder() {
        boolean vector = RankingDotVector.hardwareSupported();
        for (long seed = 1; seed <= 400; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int n = (int) (seed % 131);
            int aOff = rnd.nextInt(9);
            int cOff = rnd.nextInt(9);
            float[] a = random(aOff + n, rnd);
            byte[] c = new byte[cOff + n];
            float[] widened = new float[cOff + n];
            for (int i = 0; i < c.length; i++) {
                c[i] = (byte) (rnd.nextInt(255) - 127);
                widened[i] = c[i];
            }
            float want = RankingReference.dot(a, aOff, widened, cOff, n);
            String msg = "seed=" + seed + " n=" + n + " aOff=" + aOff + " cOff=" + cOff;
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(RankingDot.scalar(a, aOff, c, cOff, n)),
                    "scalar " + msg);
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(RankingDot.dot(a, aOff, c, cOff, n)),
                    "dispatch " + msg);
            if (vector) {
                assertEquals(Float.floatToRawIntBits(want),
                        Float.floatToRawIntBits(RankingDotVector.dot(a, aOff, c, cOff, n)), "vector " + msg);
            }
        }
    }

    @Test
    void shouldGiveEachOfFourRowsTheBitsOfItsOwnDot() {
        boolean vector = RankingDotVector.hardwareSupported();
        float[] lanes = new float[32];
        for (long seed = 1; seed <= 300; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int n = 8 * (int) (seed % 17); // dot4 takes whole groups of eight
            int aOff = rnd.nextInt(9);
            float[] a = random(aOff + n, rnd);
            byte[] c = new byte[4 * n + 40];
            for (int i = 0; i < c.length; i++) {
                // the extremes of int8 included: -128 and 127
                c[i] = (byte) (seed % 5 == 0 ? (i % 2 == 0 ? -128 : 127) : rnd.nextInt(256) - 128);
            }
            int[] off = {rnd.nextInt(c.length - n + 1), rnd.nextInt(c.length - n + 1), rnd.nextInt(c.length - n + 1),
                rnd.nextInt(c.length - n + 1)};
            if (seed % 3 == 0) {
                off[3] = off[2]; // the repeated row of a short last group
            }
            float[] out = new float[6];
            RankingDot.dot4(a, aOff, c, off[0], off[1], off[2], off[3], n, lanes, out, 1);
            float[] vec = new float[4];
            if (vector) {
                RankingDotVector.dot4(a, aOff, c, off[0], off[1], off[2], off[3], n, lanes, vec, 0);
            }
            for (int u = 0; u < 4; u++) {
                float want = RankingDot.scalar(a, aOff, c, off[u], n);
                String msg = "seed=" + seed + " n=" + n + " row " + u;
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(out[1 + u]), "dispatch " + msg);
                if (vector) {
                    assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(vec[u]), "vector " + msg);
                }
            }
            assertEquals(0f, out[0], "seed=" + seed + ": nothing written before o");
            assertEquals(0f, out[5], "seed=" + seed + ": nothing written after o + 3");
        }
    }

    @Test
    void shouldQuantizeWithinHalfAScaleStepAndKeepTheLargestValueExact() {
        for (long seed = 1; seed <= 200; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int n = 1 + rnd.nextInt(130);
            float[] k = random(n, rnd);
            byte[] codes = new byte[n];
            float scale = CompactKeys.quantize(k, 0, n, codes, 0);
            float maxAbs = 0;
            for (float v : k) {
                maxAbs = Math.max(maxAbs, Math.abs(v));
            }
            assertEquals(maxAbs / 127, scale, "seed=" + seed);
            for (int i = 0; i < n; i++) {
                assertTrue(codes[i] >= -127, "code -128 is never used");
                assertTrue(Math.abs(codes[i] * (double) scale - k[i]) <= scale * 0.5000001,
                        "seed=" + seed + " i=" + i + " code=" + codes[i] + " scale=" + scale + " value=" + k[i]);
            }
        }
        byte[] zero = {5, 5};
        assertEquals(0f, CompactKeys.quantize(new float[] {0f, -0f}, 0, 2, zero, 0));
        assertEquals(0, zero[0] | zero[1], "the zero row has zero codes");
    }

    @Test
    void shouldStayWithinTheRoundingBoundOfTheExactDot() {
        // each product rounds once, each lane adds ceil(n/8) terms, then 3 pairwise levels:
        // |error| <= (ceil(n/8) + 4) * 2^-24 * sum |a_i b_i| (first-order bound, u = 2^-24)
        for (long seed = 1; seed <= 200; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int n = 1 + rnd.nextInt(300);
            float[] a = random(n, rnd);
            float[] b = random(n, rnd);
            double exact = 0;
            double magnitude = 0;
            for (int i = 0; i < n; i++) {
                exact += (double) a[i] * b[i];
                magnitude += Math.abs((double) a[i] * b[i]);
            }
            double bound = ((n + 7) / 8 + 4) * Math.ulp(1.0f) / 2 * magnitude * 1.01;
            double err = Math.abs(RankingDot.dot(a, 0, b, 0, n) - exact);
            assertTrue(err <= bound, "seed=" + seed + " n=" + n + " error=" + err + " bound=" + bound);
        }
    }

    @Test
    void shouldReturnZeroForNoTermsAndTheProductForOne() {
        assertEquals(0f, RankingDot.dot(new float[0], 0, new float[0], 0, 0));
        assertEquals(-6f, RankingDot.dot(new float[] {9, 2}, 1, new float[] {-3, 7}, 0, 1));
    }

    private static float[] random(int n, SplittableRandom rnd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            // mixed magnitudes so that a wrong summation order shows in the low bits
            v[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(-3, 4)));
        }
        return v;
    }
}
