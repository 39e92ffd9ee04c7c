package dev.icecache.bench.speed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import org.junit.jupiter.api.Test;

class SyntheticContextTest {

    private static final CacheShape SHAPE = new CacheShape(3, 4, 2, 16, 3000);

    @Test
    void shouldGiveTheSameRowsForTheSameSeed() {
        float[] k1 = new float[10 * SHAPE.kvDim()];
        float[] v1 = new float[10 * SHAPE.kvDim()];
        float[] k2 = new float[10 * SHAPE.kvDim()];
        float[] v2 = new float[10 * SHAPE.kvDim()];
        new SyntheticContext(SHAPE, 7).rows(1, 100, 10, k1, v1);
        new SyntheticContext(SHAPE, 7).rows(1, 100, 10, k2, v2);
        assertArrayEquals(k1, k2);
        assertArrayEquals(v1, v2);
        new SyntheticContext(SHAPE, 8).rows(1, 100, 10, k2, v2);
        assertTrue(k1[0] != k2[0] || k1[1] != k2[1], "another seed gives other rows");
    }

    @Test
    void shouldKeepKeysWithinCentroidPlusNoiseBounds() {
        int n = 500;
        float[] k = new float[n * SHAPE.kvDim()];
        float[] v = new float[n * SHAPE.kvDim()];
        new SyntheticContext(SHAPE, 3).rows(0, 0, n, k, v);
        float bound = SyntheticContext.CENTROID_SCALE + SyntheticContext.NOISE_SCALE;
        for (int i = 0; i < k.length; i++) {
            assertTrue(Math.abs(k[i]) <= bound, "key component " + k[i] + " at " + i + " exceeds " + bound);
            assertTrue(Math.abs(v[i]) <= 1f, "value component " + v[i] + " at " + i + " outside [-1, 1]");
        }
    }

    @Test
    void shouldFillAFullCacheWhoseAttentionMatchesABruteForceSoftmax() {
        int n = 1500; // more than one chunk
        SyntheticContext context = new SyntheticContext(SHAPE, 11);
        FullCache cache = new FullCache(SHAPE);
        context.fill(cache, n, SHAPE.nLayers(), null);
        assertEquals(n, cache.length());
        float[] k = new float[n * SHAPE.kvDim()];
        float[] v = new float[n * SHAPE.kvDim()];
        int layer = 2;
        int chunkFloats = SyntheticContext.CHUNK * SHAPE.kvDim();
        float[] kTail = new float[k.length - chunkFloats];
        float[] vTail = new float[v.length - chunkFloats];
        context.rows(layer, 0, SyntheticContext.CHUNK, k, v);
        context.rows(layer, SyntheticContext.CHUNK, n - SyntheticContext.CHUNK, kTail, vTail);
        System.arraycopy(kTail, 0, k, chunkFloats, kTail.length);
        System.arraycopy(vTail, 0, v, chunkFloats, vTail.length);
        float[] q = new float[SHAPE.qDim()];
        context.query(layer, n - 1, q);
        float[] out = new float[SHAPE.qDim()];
        cache.attend(layer, n - 1, q, 0, out, 0);
        int hd = SHAPE.headDim();
        for (int h = 0; h < SHAPE.nHeads(); h++) {
            int kvh = h / SHAPE.groupSize();
            double[] expected = bruteForce(q, h * hd, k, v, kvh, n);
            for (int d = 0; d < hd; d++) {
                assertEquals(expected[d], out[h * hd + d], 1e-4, "head " + h + " dim " + d);
            }
        }
    }

    private static double[] bruteForce(float[] q, int qOff, float[] k, float[] v, int kvh, int n) {
        int hd = SHAPE.headDim();
        int kvDim = SHAPE.kvDim();
        double[] s = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            double dot = 0;
            for (int d = 0; d < hd; d++) {
                dot += (double) q[qOff + d] * k[i * kvDim + kvh * hd + d];
            }
            s[i] = dot / Math.sqrt(hd);
            max = Math.max(max, s[i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            s[i] = Math.exp(s[i] - max);
            sum += s[i];
        }
        double[] out = new double[hd];
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < hd; d++) {
                out[d] += s[i] / sum * v[i * kvDim + kvh * hd + d];
            }
        }
        return out;
    }

    @Test
    void shouldFillAPagedCacheSoItCommitsEveryChunk() {
        KvCache cache = PolicyCaches.create(Policy.ICECACHE, SHAPE, 64, 1);
        new SyntheticContext(SHAPE, 5).fill(cache, 2500, PolicyCaches.attendFromLayer(cache), null);
        PagedKvCache paged = (PagedKvCache) cache;
        assertEquals(2500, cache.length());
        // the last chunk is attended but not yet committed; everything before it is in sink, window and index
        assertEquals(2500 - 2 * SyntheticContext.CHUNK, paged.chunkRows(SHAPE.nLayers() - 1));
        assertTrue(paged.selector().pageIdLimit(SHAPE.nLayers() - 1, 0) > 0, "the index holds pages");
    }

    @Test
    void shouldRejectATargetBeyondMaxTokens() {
        FullCache cache = new FullCache(SHAPE);
        assertThrows(IllegalArgumentException.class, () -> new SyntheticContext(SHAPE, 1).fill(cache, 3001, 3, null));
    }
}
