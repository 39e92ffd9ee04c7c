package dev.icecache.kvcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link SoftmaxExp}: the exponential within a stated error of the exact value over the whole range
 * a softmax feeds it, its edges, the sum in its documented order (written out plainly here), and
 * {@link HeadAttention#softmax} built from both.
 */
class SoftmaxExpTest {

    /** Largest error allowed over [-87, 0], in ulps of the exact value rounded to float (measured: 0.97). */
    private static final double MAX_ULPS = 1.0;

    @Test
    void shouldStayWithinOneUlpOfTheExactExponentialOverTheSoftmaxRange() {
        double worst = 0;
        float worstAt = 0;
        int off = 0;
        int n = 0;
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < 400_000; i++) {
            // a grid over [-87, 0] and random points, so both k's steps and r's whole range are met
            float x = i < 200_000 ? -87f * i / 200_000 : (float) (-87 * rnd.nextDouble());
            double exact = Math.exp(x);
            float got = SoftmaxExp.exp(x);
            double ulps = Math.abs(got - exact) / Math.ulp((float) exact);
            if (ulps > worst) {
                worst = ulps;
                worstAt = x;
            }
            if (got != (float) exact) {
                off++;
            }
            n++;
        }
        assertTrue(worst <= MAX_ULPS, "worst error " + worst + " ulps at x=" + worstAt);
        // about 90% are the correctly rounded float (measured: 9.9% one ulp away)
        assertTrue(off < n / 8, off + " of " + n + " differ from the rounded exact value");
    }

    @Test
    void shouldGiveOneAtZeroAndTheFloorBelowTheLowestArgument() {
        assertEquals(1f, SoftmaxExp.exp(0f));
        assertEquals(1f, SoftmaxExp.exp(-0f));
        float floor = SoftmaxExp.exp(SoftmaxExp.LOWEST);
        assertTrue(floor > 0f && floor < 1e-37f, "e^-87 as computed: " + floor);
        assertEquals(floor, SoftmaxExp.exp(-1000f));
        assertEquals(floor, SoftmaxExp.exp(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(SoftmaxExp.exp(Float.NaN)));
    }

    @Test
    void shouldNeverDecreaseAsTheArgumentGrows() {
        // a softmax must keep the order of scores: a fine grid over the range, and every float
        // within 300 ulps of each point where the rounding to k steps (r jumps from +ln2/2 to -ln2/2)
        float prev = 0f;
        for (int i = 0; i <= 870_000; i++) {
            float x = -87f + i * 1e-4f;
            float e = SoftmaxExp.exp(Math.min(x, 0f));
            assertTrue(e >= prev, "exp(" + x + ")=" + e + " below exp of a smaller argument " + prev);
            prev = e;
        }
        for (int k = -126; k < 0; k++) {
            float x = (float) ((k + 0.5) * Math.log(2));
            for (int u = 0; u < 300; u++) {
                x = Math.nextDown(x);
            }
            prev = SoftmaxExp.exp(x);
            for (int u = 0; u < 600; u++) {
                x = Math.nextUp(x);
                float e = SoftmaxExp.exp(x);
                assertTrue(e >= prev, "exp(" + x + ")=" + e + " below exp of the float before it " + prev);
                prev = e;
            }
        }
    }

    /** The documented order written out plainly: lane j sums values j, j+16, ... then a pairwise tree. */
    static float documentedSum(float[] a, int from, int n) {
        float[] l = new float[16];
        for (int i = 0; i < n; i++) {
            l[i % 16] += a[from + i];
        }
        return (((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])))
                + (((l[8] + l[9]) + (l[10] + l[11])) + ((l[12] + l[13]) + (l[14] + l[15])));
    }

    /**
     * The blocked exponentials give {@link SoftmaxExp#exp}'s bits for every element, across block
     * edges and at the edges of the range. Repeated until C2 has compiled (and vectorized) the
     * loops, so the compiled form is compared too, not only the interpreter's.
     */
    @Test
    void shouldGiveTheScalarExponentialsBitsWhenRunInBlocks() {
        SplittableRandom rnd = new SplittableRandom(13);
        float[] special = {Float.NaN, Float.NEGATIVE_INFINITY, -0f, 0f, -87f, -87.5f, -1e30f, -Float.MIN_VALUE,
            -103f, -0.34657359f, -0.34657360f};
        int[] lengths = {0, 1, 15, 255, 256, 257, 600};
        for (int round = 0; round < 3000; round++) {
            int n = lengths[round % lengths.length];
            int from = rnd.nextInt(7);
            float max = round % 3 == 0 ? 0f : (float) (5 * rnd.nextGaussian());
            float[] att = new float[from + n + 2];
            for (int i = 0; i < att.length; i++) {
                att[i] = rnd.nextInt(20) == 0 ? special[rnd.nextInt(special.length)] + max
                        : (float) (max - 90 * rnd.nextDouble());
            }
            float[] got = att.clone();
            SoftmaxExp.expMinus(got, from, n, max);
            for (int i = 0; i < att.length; i++) {
                float want = i >= from && i < from + n ? SoftmaxExp.exp(att[i] - max) : att[i];
                if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(got[i])) {
                    assertEquals(want, got[i], "round=" + round + " n=" + n + " i=" + i + " x=" + att[i]);
                    assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got[i]), "bits at i=" + i);
                }
            }
        }
    }

    @Test
    void shouldSumInTheDocumentedSixteenLaneOrder() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int n = 0; n <= 200; n++) {
            int from = rnd.nextInt(20);
            float[] a = new float[from + n + 3];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) Math.exp(-20 * rnd.nextDouble()); // weights spanning many binades
            }
            assertEquals(Float.floatToRawIntBits(documentedSum(a, from, n)),
                    Float.floatToRawIntBits(SoftmaxExp.sum(a, from, n)), "n=" + n + " from=" + from);
        }
    }

    @Test
    void shouldBuildTheSoftmaxFromTheExponentialAndTheSum() {
        SplittableRandom rnd = new SplittableRandom(9);
        for (int n = 1; n <= 70; n++) {
            float[] att = new float[n + 4];
            for (int i = 0; i < att.length; i++) {
                att[i] = (float) (30 * rnd.nextGaussian());
            }
            float[] got = att.clone();
            HeadAttention.softmax(got, 2, n);
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 2; i < 2 + n; i++) {
                max = Math.max(max, att[i]);
            }
            float[] e = new float[n];
            for (int i = 0; i < n; i++) {
                e[i] = SoftmaxExp.exp(att[2 + i] - max);
            }
            float inv = 1f / documentedSum(e, 0, n);
            double total = 0;
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(e[i] * inv), Float.floatToRawIntBits(got[2 + i]),
                        "n=" + n + " i=" + i);
                total += got[2 + i];
            }
            assertEquals(1.0, total, 1e-5, "weights sum to one, n=" + n);
            assertEquals(att[0], got[0]);
            assertEquals(att[n + 2], got[n + 2]);
        }
    }
}
