package dev.icecache.gpu.resident;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.Function;

import dev.icecache.gpu.launch.ResidentSlots;
import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.tree.Projection;

/**
 * Two caches fed the same rows and queries: one attending on the host ({@link PagedKvCache#attendBlock}),
 * one mirrored onto a device region through {@link ResidentAttention}; the device is emulated on the
 * CPU ({@link ResidentAttentionTest}) or real ({@link GpuResidentKernelTest}). The test fixture of both.
 */
final class ResidentTwin {

    static final CacheShape SHAPE = new CacheShape(3, 4, 2, 8, 1200);
    static final int MAX_BATCH = 40;
    /** Prefill blocks and decode steps, mixed. */
    static final int[] BLOCKS = {40, 7, 1, 1, 33, 1, 16, 1, 1, 1, 40, 1};

    /** How a step's q, k, v reach the device and its output comes back. */
    interface Io {
        void load(float[] q, float[] k, float[] v, int n);

        float[] output(int n);
    }

    final PagedKvCache reference;
    final PagedKvCache mirrored;
    final ResidentAttention resident;
    private final Io io;

    ResidentTwin(CacheConfig config, Function<ResidentSlots, KvDevice> open, Io io) {
        this.reference = cache(config);
        this.mirrored = cache(config);
        this.resident = new ResidentAttention(mirrored, slots(mirrored, config), open);
        this.io = io;
    }

    static PagedKvCache cache(CacheConfig config) {
        return new PagedKvCache(SHAPE, config, new InMemoryPageStore(PageLayout.of(SHAPE.headDim()),
                config.pageFormat()), new Projection(SHAPE.headDim(), new SplittableRandom(2)));
    }

    static ResidentSlots slots(PagedKvCache cache, CacheConfig config) {
        return ResidentSlots.of(PageLayout.of(SHAPE.headDim()), cache.poolCapacityPages(), SHAPE.nLayers(),
                config.denseLayers(), SHAPE.nKvHeads(), MAX_BATCH, SHAPE.maxTokens());
    }

    /** Runs {@code positions} through both caches, asserting every output within {@code tolerance}; returns the largest difference. */
    float run(int positions, long seed, float tolerance) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int qDim = SHAPE.qDim();
        int kvDim = SHAPE.kvDim();
        float[] expected = new float[MAX_BATCH * qDim];
        float worst = 0f;
        int p = 0;
        for (int b = 0; p < positions; b++) {
            int n = Math.min(positions - p, BLOCKS[b % BLOCKS.length]);
            for (int l = 0; l < SHAPE.nLayers(); l++) {
                float[] q = random(rnd, n * qDim);
                float[] k = random(rnd, n * kvDim);
                float[] v = random(rnd, n * kvDim);
                for (int t = 0; t < n; t++) {
                    reference.append(l, p + t, k, t * kvDim, v, t * kvDim);
                }
                reference.attendBlock(l, p, n, q, 0, expected, 0);
                io.load(q, k, v, n);
                resident.attendLayer(l, p, n, q, k, v);
                float[] got = io.output(n);
                for (int i = 0; i < n * qDim; i++) {
                    float d = Math.abs(expected[i] - got[i]);
                    assertTrue(d <= tolerance, "layer=" + l + " positions " + p + ".." + (p + n - 1) + " float " + i
                            + ": host " + expected[i] + " device " + got[i]);
                    worst = Math.max(worst, d);
                }
            }
            p += n;
        }
        return worst;
    }

    static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextDouble(-2, 2);
        }
        return a;
    }
}
