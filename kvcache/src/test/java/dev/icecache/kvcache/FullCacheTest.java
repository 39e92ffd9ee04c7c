package dev.icecache.kvcache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FullCacheTest {

    /** Straightforward attention in double precision, the oracle for the float kernel. */
    private static double[] bruteForce(float[][] ks, float[][] vs, float[] q, int n, int hd) {
        double[] s = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            double d = 0;
            for (int j = 0; j < hd; j++) {
                d += (double) q[j] * ks[i][j];
            }
            s[i] = d / Math.sqrt(hd);
            max = Math.max(max, s[i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            s[i] = Math.exp(s[i] - max);
            sum += s[i];
        }
        double[] out = new double[hd];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < hd; j++) {
                out[j] += s[i] / sum * vs[i][j];
            }
        }
        return out;
    }

    @Test
    void shouldMatchBruteForceAttentionForEveryHeadWithGqa() {
        CacheShape shape = new CacheShape(2, 4, 2, 8, 700);
        FullCache cache = new FullCache(shape);
        SplittableRandom rnd = new SplittableRandom(7);
        int n = 600; // crosses the initial capacity, so growth is exercised
        float[][][] ks = new float[2][n][shape.kvDim()];
        float[][][] vs = new float[2][n][shape.kvDim()];
        for (int l = 0; l < 2; l++) {
            for (int p = 0; p < n; p++) {
                for (int j = 0; j < shape.kvDim(); j++) {
                    ks[l][p][j] = (float) rnd.nextGaussian();
                    vs[l][p][j] = (float) rnd.nextGaussian();
                }
                cache.append(l, p, ks[l][p], 0, vs[l][p], 0);
            }
        }
        assertEquals(n, cache.length());
        float[] q = new float[shape.qDim()];
        for (int j = 0; j < q.length; j++) {
            q[j] = (float) rnd.nextGaussian();
        }
        int pos = 450;
        float[] out = new float[shape.qDim()];
        cache.attend(1, pos, q, 0, out, 0);
        for (int h = 0; h < 4; h++) {
            int kvh = h / 2;
            float[][] kh = new float[pos + 1][8];
            float[][] vh = new float[pos + 1][8];
            for (int p = 0; p <= pos; p++) {
                System.arraycopy(ks[1][p], kvh * 8, kh[p], 0, 8);
                System.arraycopy(vs[1][p], kvh * 8, vh[p], 0, 8);
            }
            float[] qh = java.util.Arrays.copyOfRange(q, h * 8, h * 8 + 8);
            double[] expect = bruteForce(kh, vh, qh, pos + 1, 8);
            for (int j = 0; j < 8; j++) {
                assertEquals(expect[j], out[h * 8 + j], 1e-5, "head " + h + " dim " + j);
            }
        }
    }

    @Test
    void shouldRejectOutOfOrderAppend() {
        FullCache cache = new FullCache(new CacheShape(1, 1, 1, 4, 8));
        float[] row = new float[4];
        cache.append(0, 0, row, 0, row, 0);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cache.append(0, 2, row, 0, row, 0));
        assertEquals("append out of order: layer=0 position=2 expected=1", e.getMessage());
    }

    @Test
    void shouldReturnTheOnlyValueWhenOnePositionIsCached() {
        FullCache cache = new FullCache(new CacheShape(1, 2, 1, 4, 8));
        float[] k = {1, 2, 3, 4};
        float[] v = {5, -6, 7, 0.5f};
        cache.append(0, 0, k, 0, v, 0);
        float[] out = new float[8];
        cache.attend(0, 0, new float[] {1, 1, 1, 1, -3, 2, 0, 9}, 0, out, 0);
        assertArrayEquals(new float[] {5, -6, 7, 0.5f, 5, -6, 7, 0.5f}, out);
    }
}
