package dev.icecache.bench.speed;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.KvCache;

/**
 * Fills a {@link KvCache} with synthetic post-RoPE K and V rows instead of prefilling real
 * tokens, so that decode can be timed at contexts (16k, 64k) a 2-core CPU cannot prefill.
 *
 * <pre>
 *   key   of (layer, kvHead, position) = centroid[c] + noise,  c = a pseudo-random cluster of the stream
 *   value of (layer, kvHead, position) = noise
 *   centroids: CLUSTERS per stream, components uniform in [-CENTROID_SCALE, CENTROID_SCALE]
 *   noise: components uniform in [-NOISE_SCALE, NOISE_SCALE]
 * </pre>
 *
 * Why this is a fair stand-in: the cost of Full attention depends only on how many rows it
 * reduces over, never on their values; the sparse policies' cost depends on the index's shape,
 * which clustered keys (as real keys are) exercise like real ones. Rows go in through the
 * public API in chunks of {@link #CHUNK} positions per layer, as a batched prefill would; for a
 * cache that commits a chunk only after an attend (PagedKvCache), one query at the chunk's last
 * position is attended on the layers given by {@code attendFromLayer}.
 */
public final class SyntheticContext {

    /** Positions appended per layer before moving to the next layer. */
    public static final int CHUNK = 1024;
    static final int CLUSTERS = 64;
    static final float CENTROID_SCALE = 1.0f;
    static final float NOISE_SCALE = 0.35f;

    private final CacheShape shape;
    private final long seed;
    private final float[][] centroids; // [layer * nKvHeads + kvHead][CLUSTERS * headDim]

    /** A generator for caches of {@code shape}; the same seed gives the same rows. */
    public SyntheticContext(CacheShape shape, long seed) {
        this.shape = shape;
        this.seed = seed;
        int streams = shape.nLayers() * shape.nKvHeads();
        int hd = shape.headDim();
        this.centroids = new float[streams][CLUSTERS * hd];
        long state = mix(seed ^ 0x5DEECE66DL);
        for (float[] c : centroids) {
            for (int i = 0; i < c.length; i++) {
                state = mix(state);
                c[i] = CENTROID_SCALE * unit(state);
            }
        }
    }

    /**
     * Appends positions {@code cache.length() .. target-1} to every layer.
     *
     * @param attendFromLayer layers at or above it get one attend per chunk (so a paged cache
     *                        commits the chunk); {@code shape.nLayers()} attends nowhere
     * @param progress called after each chunk with the positions filled so far (may be null)
     * @throws IllegalArgumentException when target exceeds the cache's maxTokens or lies before its length
     */
    public void fill(KvCache cache, int target, int attendFromLayer, java.util.function.IntConsumer progress) {
        int from = cache.length();
        if (target < from || target > shape.maxTokens()) {
            throw new IllegalArgumentException("fill to target=" + target + " needs " + from + " <= target <= maxTokens="
                    + shape.maxTokens());
        }
        int kvDim = shape.kvDim();
        float[] k = new float[CHUNK * kvDim];
        float[] v = new float[CHUNK * kvDim];
        float[] q = new float[shape.qDim()];
        float[] out = new float[shape.qDim()];
        for (int start = from; start < target; start += CHUNK) {
            int n = Math.min(CHUNK, target - start);
            for (int layer = 0; layer < shape.nLayers(); layer++) {
                rows(layer, start, n, k, v);
                for (int i = 0; i < n; i++) {
                    cache.append(layer, start + i, k, i * kvDim, v, i * kvDim);
                }
                if (layer >= attendFromLayer) {
                    query(layer, start + n - 1, q);
                    cache.attend(layer, start + n - 1, q, 0, out, 0);
                }
            }
            if (progress != null) {
                progress.accept(start + n);
            }
        }
    }

    /** K and V rows of positions {@code start .. start+n-1} of one layer, [position][kvHead][headDim]. */
    public void rows(int layer, int start, int n, float[] k, float[] v) {
        int hd = shape.headDim();
        int kv = shape.nKvHeads();
        for (int i = 0; i < n; i++) {
            long state = mix(seed + 0x9E3779B97F4A7C15L * (((long) layer << 32) + start + i));
            for (int h = 0; h < kv; h++) {
                float[] c = centroids[layer * kv + h];
                state = mix(state);
                int cluster = (int) ((state >>> 33) % CLUSTERS);
                int at = (i * kv + h) * hd;
                for (int d = 0; d < hd; d++) {
                    state = mix(state);
                    k[at + d] = c[cluster * hd + d] + NOISE_SCALE * unit(state);
                    v[at + d] = unit(state * 31 + 7);
                }
            }
        }
    }

    /** A query near one of the layer's clusters for every head ({@code shape.qDim()} floats into q). */
    public void query(int layer, int position, float[] q) {
        int hd = shape.headDim();
        long state = mix(seed * 31 + ((long) layer << 40) + position);
        for (int h = 0; h < shape.nHeads(); h++) {
            float[] c = centroids[layer * shape.nKvHeads() + h / shape.groupSize()];
            state = mix(state);
            int cluster = (int) ((state >>> 33) % CLUSTERS);
            for (int d = 0; d < hd; d++) {
                state = mix(state);
                q[h * hd + d] = c[cluster * hd + d] + NOISE_SCALE * unit(state);
            }
        }
    }

    /** SplitMix64's finaliser: a cheap, well-mixed step, so filling 64k positions takes seconds. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The top 24 bits of {@code state} as a float uniform in [-1, 1). */
    static float unit(long state) {
        return ((state >>> 40) * 0x1.0p-24f) * 2f - 1f;
    }
}
