package dev.icecache.kvcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link HeadAttention}'s bit-equality contract: the documented 8-lane order at every vector
 * width (the Vector API runs every species in software where the hardware lacks it), group
 * attention equal to per-head attention, and the result close to exact arithmetic.
 */
class HeadAttentionTest {

    /** The documented order written out plainly: lane j sums terms j, j+8, ... then a pairwise tree. */
    private static float documentedDot(float[] a, int aOff, float[] b, int bOff, int n) {
        float[] lane = new float[8];
        for (int i = 0; i < n; i++) {
            lane[i % 8] += a[aOff + i] * b[bOff + i];
        }
        return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    }

    @Test
    void shouldGiveTheDocumentedDotBitsFromTheScalarAndTheDispatchedKernel() {
        for (long seed = 1; seed <= 300; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int n = (int) (seed % 131);
            int aOff = rnd.nextInt(9);
            int bOff = rnd.nextInt(9);
            float[] a = random(aOff + n, rnd);
            float[] b = random(bOff + n, rnd);
            int want = Float.floatToRawIntBits(documentedDot(a, aOff, b, bOff, n));
            String msg = "seed=" + seed + " n=" + n;
            assertEquals(want, Float.floatToRawIntBits(HeadAttention.scalarDot(a, aOff, b, bOff, n)), "scalar " + msg);
            assertEquals(want, Float.floatToRawIntBits(HeadAttention.dot(a, aOff, b, bOff, n)), "dispatch " + msg);
        }
    }

    /**
     * 128-, 256- and 512-bit kernels against the documented order, in a child JVM: running several
     * vector widths in this JVM would make the JIT's profile of the Vector API megamorphic and box
     * every vector of the tests that follow (see {@link HeadAttentionVector}).
     */
    @Test
    void shouldGiveTheSameBitsAt128And256And512BitVectorsInAFreshJvm() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-cp",
                System.getProperty("java.class.path"), HeadAttentionWidths.class.getName())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), output);
        assertTrue(output.contains("checked 300 dots and 100 accumulations at 128/256/512 bits"), output);
    }

    /** The documented order, for {@link HeadAttentionWidths}. */
    static float documented(float[] a, int aOff, float[] b, int bOff, int n) {
        return documentedDot(a, aOff, b, bOff, n);
    }

    @Test
    void shouldGiveEachHeadOfAGroupTheBitsOfItsOwnAttend() {
        SplittableRandom rnd = new SplittableRandom(7);
        int hd = 64;
        int heads = 4;
        int n = 300;
        float[] keys = random(n * hd + 3, rnd);
        float[] values = random(n * hd + 5, rnd);
        float[][] kr = new float[n][];
        float[][] vr = new float[n][];
        int[] ko = new int[n];
        int[] vo = new int[n];
        for (int i = 0; i < n; i++) {
            kr[i] = keys;
            vr[i] = values;
            ko[i] = 3 + i * hd;
            vo[i] = 5 + ((i * 7) % n) * hd;
        }
        float[] q = random(heads * hd + 2, rnd);
        float[] group = new float[heads * hd + 1];
        HeadAttention.attendGroup(q, 2, heads, kr, ko, vr, vo, n, hd, new float[heads * n], group, 1);
        for (int g = 0; g < heads; g++) {
            float[] one = new float[hd];
            HeadAttention.attend(q, 2 + g * hd, kr, ko, vr, vo, n, hd, new float[n], one, 0);
            for (int d = 0; d < hd; d++) {
                assertEquals(Float.floatToRawIntBits(one[d]), Float.floatToRawIntBits(group[1 + g * hd + d]),
                        "head " + g + " dim " + d);
            }
        }
    }

    @Test
    void shouldMatchExactAttentionWithinRounding() {
        SplittableRandom rnd = new SplittableRandom(11);
        int hd = 48;
        int n = 200;
        float[] keys = random(n * hd, rnd);
        float[] values = random(n * hd, rnd);
        float[][] kr = new float[n][];
        float[][] vr = new float[n][];
        int[] off = new int[n];
        for (int i = 0; i < n; i++) {
            kr[i] = keys;
            vr[i] = values;
            off[i] = i * hd;
        }
        float[] q = random(hd, rnd);
        float[] out = new float[hd];
        HeadAttention.attend(q, 0, kr, off, vr, off, n, hd, new float[n], out, 0);
        double[] s = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < hd; d++) {
                s[i] += (double) q[d] * keys[i * hd + d];
            }
            s[i] /= Math.sqrt(hd);
            max = Math.max(max, s[i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            s[i] = Math.exp(s[i] - max);
            sum += s[i];
        }
        for (int d = 0; d < hd; d++) {
            double exact = 0;
            for (int i = 0; i < n; i++) {
                exact += s[i] / sum * values[i * hd + d];
            }
            assertTrue(Math.abs(exact - out[d]) < 1e-5, "dim " + d + ": exact " + exact + " got " + out[d]);
        }
    }

    static float[] random(int n, SplittableRandom rnd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return a;
    }
}
