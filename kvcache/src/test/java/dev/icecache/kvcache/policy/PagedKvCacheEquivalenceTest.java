package dev.icecache.kvcache.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.tree.Projection;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Policies that end up attending to every position give FullCache's outputs bit for bit. */
class PagedKvCacheEquivalenceTest {

    private static final int[] CHUNKS = {37, 1, 1, 64, 1, 20, 1, 1, 1, 5};

    private static final CacheShape[] SHAPES = {
        new CacheShape(3, 4, 2, 8, 300),   // GQA, group 2
        new CacheShape(1, 1, 1, 16, 300),  // single head
        new CacheShape(2, 6, 2, 4, 300),   // GQA, group 3
        new CacheShape(4, 2, 2, 8, 300),   // MHA, enough layers for IceCache(r) groups
    };

    private static void assertSameAsFullCache(CacheShape shape, CacheConfig config, long seed) {
        assertSameAsFullCache(shape, config, seed, false);
        assertSameAsFullCache(shape, config, seed, true);
    }

    /** With {@code blocks}, the paged cache attends each chunk with one attendBlock (prefill path). */
    private static void assertSameAsFullCache(CacheShape shape, CacheConfig config, long seed, boolean blocks) {
        int n = shape.maxTokens();
        CacheDriver data = new CacheDriver(shape, seed, n);
        float[][][] expected = data.newOutputs(n);
        data.run(new FullCache(shape), 0, n, CHUNKS, expected);
        float[][][] actual = data.newOutputs(n);
        PagedKvCache cache = new PagedKvCache(shape, config,
                new InMemoryPageStore(PageLayout.of(shape.headDim()), config.pageFormat()),
                new Projection(shape.headDim(), new SplittableRandom(seed + 1)));
        if (blocks) {
            data.runBlocks(cache, 0, n, CHUNKS, actual);
        } else {
            data.run(cache, 0, n, CHUNKS, actual);
        }
        for (int l = 0; l < shape.nLayers(); l++) {
            for (int p = 0; p < n; p++) {
                assertArrayEquals(expected[l][p], actual[l][p],
                        "seed=" + seed + " " + shape + " " + config.policy() + " blocks=" + blocks + " layer=" + l
                            + " position=" + p);
            }
        }
        assertEquals(n, cache.length());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void shouldEqualFullCacheBitForBitWhenPolicyIsFull(int denseLayers) {
        for (int i = 0; i < SHAPES.length; i++) {
            CacheShape shape = SHAPES[i];
            int dense = Math.min(denseLayers, shape.nLayers());
            assertSameAsFullCache(shape, CacheConfig.of(Policy.FULL, 64).withDenseLayers(dense)
                    .withPageFormat(PageFormat.F32), 100 + i);
        }
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void shouldEqualFullCacheBitForBitWhenBudgetCoversTheSequence(Policy policy) {
        for (int i = 0; i < SHAPES.length; i++) {
            CacheShape shape = SHAPES[i];
            assertSameAsFullCache(shape, CacheConfig.of(policy, 1024).withDenseLayers(Math.min(1, shape.nLayers() - 1))
                    .withPageFormat(PageFormat.F32), 200 + i);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Policy.class, names = {"FULL", "ICECACHE"})
    void shouldEqualFullCacheRunOnRoundedRowsWhenPagesAreBf16(Policy policy) {
        // dense layer 0 attends over its 2-byte rows (widened per block); layer 1 is sparse. The
        // second shape's groups of four reach the streamed decode step (512 rows and more) over
        // keys stored by chunks, with a partial last chunk
        for (CacheShape shape : new CacheShape[] {new CacheShape(2, 4, 2, 8, 200), new CacheShape(2, 8, 2, 8, 700)}) {
            for (int dense = 0; dense <= 1; dense++) {
                assertBf16SameAsFullCacheOnRoundedRows(shape, policy, dense);
            }
        }
    }

    private static void assertBf16SameAsFullCacheOnRoundedRows(CacheShape shape, Policy policy, int denseLayers) {
        int n = shape.maxTokens();
        CacheDriver data = new CacheDriver(shape, 7, n);
        // the reference sees the rows as BF16 keeps them
        CacheDriver rounded = new CacheDriver(shape, 7, n);
        for (float[][][] a : new float[][][][] {rounded.k, rounded.v}) {
            for (float[][] layer : a) {
                for (float[] row : layer) {
                    for (int i = 0; i < row.length; i++) {
                        row[i] = PageFormat.BF16.roundTrip(row[i]);
                    }
                }
            }
        }
        float[][][] expected = rounded.newOutputs(n);
        rounded.run(new FullCache(shape), 0, n, CHUNKS, expected);
        CacheConfig config = CacheConfig.of(policy, 1024).withDenseLayers(denseLayers);
        assertEquals(PageFormat.BF16, config.pageFormat(), "BF16 is the default page format");
        float[][][] actual = data.newOutputs(n);
        data.run(new PagedKvCache(shape, config, new InMemoryPageStore(PageLayout.of(8), PageFormat.BF16),
                new Projection(8, new SplittableRandom(3))), 0, n, CHUNKS, actual);
        for (int l = 0; l < shape.nLayers(); l++) {
            for (int p = 0; p < n; p++) {
                assertArrayEquals(expected[l][p], actual[l][p], shape + " " + policy + " dense=" + denseLayers + " layer=" + l
                        + " position=" + p);
            }
        }
    }
}
