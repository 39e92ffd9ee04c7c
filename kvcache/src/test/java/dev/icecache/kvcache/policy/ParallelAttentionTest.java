package dev.icecache.kvcache.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.RangeRunner;
import dev.icecache.kvcache.ThreadedRangeRunner;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.tree.Projection;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A layer's attention spread over 1, 2 or 4 threads ({@link KvCache#attendBlock} with a
 * {@link RangeRunner}) gives the bits of the serial call: for the full cache, and for every paged
 * policy in both page formats, over prefill blocks and single decode steps, with dense and sparse
 * layers and a budget that binds.
 */
class ParallelAttentionTest {

    private static final int[] CHUNKS = {150, 1, 32, 1, 1, 57, 16, 1};
    private static final CacheShape SHAPE = new CacheShape(3, 8, 4, 8, 420); // GQA group 2, 4 KV heads
    private static final int[] THREADS = {1, 2, 4};

    @Test
    void fullCacheGivesTheSameBitsOnAnyThreadCount() {
        assertSameOnAnyThreadCount(() -> new FullCache(SHAPE), "full");
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void pagedCacheGivesTheSameBitsOnAnyThreadCount(Policy policy) {
        for (PageFormat format : PageFormat.values()) {
            CacheConfig config = CacheConfig.of(policy, 64).withDenseLayers(1).withPageFormat(format);
            assertSameOnAnyThreadCount(() -> new PagedKvCache(SHAPE, config,
                    new InMemoryPageStore(PageLayout.of(SHAPE.headDim()), format),
                    new Projection(SHAPE.headDim(), new SplittableRandom(3))), policy + " " + format);
        }
    }

    /**
     * Past {@code DciTree.GROUP_PASS_MIN_TOKENS} the trees are searched by the group pass and grown
     * by streaming inserts, both then on the runner's threads (the selector's prepare and the
     * commit's parallel growth): still the serial bits.
     */
    @ParameterizedTest
    @EnumSource(value = Policy.class, names = {"ICECACHE", "ICECACHE_REUSE"})
    void iceCacheGivesTheSameBitsOnAnyThreadCountPastTheGroupSearchThreshold(Policy policy) {
        CacheShape shape = new CacheShape(3, 8, 2, 16, 9000); // GQA group 4, 2 KV heads, 2 sparse layers
        int n = shape.maxTokens();
        CacheConfig config = CacheConfig.of(policy, 128).withDenseLayers(1);
        Supplier<KvCache> caches = () -> new PagedKvCache(shape, config,
                new InMemoryPageStore(PageLayout.of(shape.headDim()), PageFormat.BF16),
                new Projection(shape.headDim(), new SplittableRandom(5)));
        int[] chunks = {2048, 512, 1, 1, 256, 1, 64, 1};
        CacheDriver data = new CacheDriver(shape, 13, n);
        float[][][] serial = data.newOutputs(n);
        data.runBlocks(caches.get(), 0, n, chunks, serial);
        float[][][] parallel = data.newOutputs(n);
        data.runBlocks(caches.get(), 0, n, chunks, parallel, new ThreadedRangeRunner(2));
        for (int l = 0; l < shape.nLayers(); l++) {
            for (int p = 0; p < n; p++) {
                assertArrayEquals(serial[l][p], parallel[l][p], policy + " layer=" + l + " position=" + p);
            }
        }
    }

    @Test
    void aFailingWorkerReachesTheCaller() {
        FullCache cache = new FullCache(SHAPE);
        float[] row = new float[SHAPE.kvDim()];
        cache.append(0, 0, row, 0, row, 0);
        RangeRunner failing = new RangeRunner() {
            @Override
            public int parallelism() {
                return 2;
            }

            @Override
            public void runRange(int n, RangeTask task) {
                new ThreadedRangeRunner(2).runRange(n, (from, to, part) -> {
                    throw new IllegalStateException("injected");
                });
            }
        };
        float[] q = new float[SHAPE.qDim()];
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> cache.attendBlock(0, 0, 1, q, 0, new float[SHAPE.qDim()], 0, failing));
        assertEquals("injected", e.getCause().getMessage());
    }

    private static void assertSameOnAnyThreadCount(Supplier<KvCache> caches, String what) {
        int n = SHAPE.maxTokens();
        CacheDriver data = new CacheDriver(SHAPE, 11, n);
        float[][][] serial = data.newOutputs(n);
        data.runBlocks(caches.get(), 0, n, CHUNKS, serial);
        for (int threads : THREADS) {
            float[][][] parallel = data.newOutputs(n);
            data.runBlocks(caches.get(), 0, n, CHUNKS, parallel, new ThreadedRangeRunner(threads));
            for (int l = 0; l < SHAPE.nLayers(); l++) {
                for (int p = 0; p < n; p++) {
                    assertArrayEquals(serial[l][p], parallel[l][p],
                            what + " threads=" + threads + " layer=" + l + " position=" + p);
                }
            }
        }
    }
}
