package dev.icecache.kvcache.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.HeadAttention;
import dev.icecache.kvcache.metrics.CacheMetrics;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PagedKvCacheTest {

    private static PagedKvCache cache(CacheShape shape, CacheConfig config) {
        return new PagedKvCache(shape, config, new InMemoryPageStore(PageLayout.of(shape.headDim()), config.pageFormat()),
                null);
    }

    /**
     * StreamingLLM at 64 tokens (sink 16, two retrieved pages, a one-page window): a query at p in a
     * chunk that starts at c attends to the sink, the two pages before the window, the window, and
     * the chunk up to p, computed here from positions alone.
     */
    @Test
    void shouldAttendToSinkRecentPagesWindowAndTheChunkCausally() {
        CacheShape shape = new CacheShape(1, 1, 1, 4, 400);
        CacheDriver data = new CacheDriver(shape, 12, 400);
        PagedKvCache cache = cache(shape, CacheConfig.of(Policy.STREAMING, 64).withDenseLayers(0)
                .withPageFormat(PageFormat.F32)); // compared with a float32 reference
        int[] chunks = {100, 50, 1, 1, 1, 7, 1, 33, 1};
        float[][][] out = data.newOutputs(400);
        List<List<Integer>> seen = new ArrayList<>();
        for (int p = 0; p < 400; p++) {
            seen.add(null);
        }
        cache.observeAttendedPositions((layer, kvHead, position, positions, count) -> {
            List<Integer> rows = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                rows.add(positions[i]);
            }
            seen.set(position, rows);
        });
        int c = 0;
        for (int i = 0; c < 400; i++) {
            int end = Math.min(400, c + chunks[i % chunks.length]);
            data.run(cache, c, end, new int[] {end - c}, out);
            for (int p = c; p < end; p++) {
                List<Integer> attended = new ArrayList<>();
                for (int t = 0; t < Math.min(16, c); t++) {
                    attended.add(t); // sink
                }
                if (c > 16) {
                    int windowPage = (c - 1 - 16) / 16; // the page holding position c-1
                    for (int t = 16 + 16 * Math.max(0, windowPage - 2); t < c; t++) {
                        attended.add(t); // two retrieved pages, then the window
                    }
                }
                for (int t = c; t <= p; t++) {
                    attended.add(t); // the chunk, causally
                }
                assertEquals(attended, seen.get(p), "attended positions, chunk start " + c + " position " + p);
                float[] expect = reference(data, attended, p);
                assertArrayEquals(expect, out[0][p], "chunk start " + c + " position " + p);
            }
            c = end;
        }
    }

    /**
     * The smallest budget a sparse policy accepts (48 tokens: sink, one retrieved page, window)
     * must run: every step attends at most 48 past positions plus its chunk, all of them earlier.
     */
    @Test
    void shouldRunEverySparsePolicyAtTheSmallestBudget() {
        CacheShape shape = new CacheShape(2, 2, 1, 8, 300);
        for (Policy policy : Policy.values()) {
            if (policy == Policy.FULL) {
                continue;
            }
            CacheDriver data = new CacheDriver(shape, 5, 300);
            PagedKvCache cache = new PagedKvCache(shape, CacheConfig.of(policy, 48).withDenseLayers(0),
                    new InMemoryPageStore(PageLayout.of(shape.headDim()), CacheConfig.DEFAULT_PAGE_FORMAT),
                    new dev.icecache.kvcache.tree.Projection(8, new java.util.SplittableRandom(3)));
            int[] chunkStart = new int[300];
            cache.observeAttendedPositions((layer, kvHead, position, positions, count) -> {
                int past = 0;
                for (int i = 0; i < count; i++) {
                    assertTrue(positions[i] <= position, policy + ": attended a later position");
                    past += positions[i] < chunkStart[position] ? 1 : 0;
                }
                assertTrue(past <= 48, policy + ": " + past + " past positions at " + position);
            });
            float[][][] out = data.newOutputs(300);
            for (int c = 0; c < 300; c += 20) {
                for (int p = c; p < c + 20; p++) {
                    chunkStart[p] = c;
                }
                data.run(cache, c, c + 20, new int[] {20}, out);
            }
            assertEquals(300, cache.length(), policy.name());
        }
    }

    private static float[] reference(CacheDriver data, List<Integer> positions, int query) {
        int n = positions.size();
        float[][] k = new float[n][];
        float[][] v = new float[n][];
        int[] off = new int[n];
        for (int i = 0; i < n; i++) {
            k[i] = data.k[0][positions.get(i)];
            v[i] = data.v[0][positions.get(i)];
        }
        float[] out = new float[4];
        HeadAttention.attend(data.q[0][query], 0, k, off, v, off, n, 4, new float[n], out, 0);
        return out;
    }

    @Test
    void shouldCountSelectedHitAndMovedPagesPerStep() {
        CacheShape shape = new CacheShape(2, 4, 2, 8, 1000);
        CacheDriver data = new CacheDriver(shape, 4, 1000);
        PagedKvCache cache = cache(shape, CacheConfig.of(Policy.QUEST, 64).withDenseLayers(1));
        float[][][] out = data.newOutputs(1000);
        data.run(cache, 0, 500, new int[] {500}, out);
        data.run(cache, 500, 520, new int[] {1}, out);
        CacheMetrics m = cache.metrics();
        assertEquals(520, m.steps, "one step per attend of the one sparse layer");
        assertEquals(2 * 2, m.stepPagesSelected, "retrieved pages x KV heads");
        assertEquals(m.stepPagesSelected, m.stepResidentHits + m.stepPagesMoved);
        assertEquals(m.stepPagesMoved * 16 * 2 * 8 * 4, m.stepBytesMoved);
        assertEquals(m.pagesSelected, m.residentHits + m.pagesMoved);
        // at position 519 the window holds page (519 - 1 - 16) / 16 = 31, so pages 0..30 are indexed:
        // one digest product per page, query head and KV head
        assertEquals(31 * 2 * 2, m.stepExactDots);
        // the same query again: everything it needs is resident and unchanged, nothing moves
        float[] again = new float[shape.qDim()];
        cache.attend(1, 519, data.q[1][519], 0, again, 0);
        assertEquals(0, m.stepPagesMoved);
        assertEquals(4, m.stepResidentHits);
        assertArrayEquals(out[1][519], again);
        assertTrue(cache.peakResidentPages() <= cache.poolCapacityPages());
        assertEquals(2 * (1 + 2 + 1), cache.poolCapacityPages());
    }

    @Test
    void shouldSearchOnlyInTheFirstLayerOfEachIceCacheRGroupWhenDecoding() {
        CacheShape shape = new CacheShape(5, 4, 2, 8, 1200);
        CacheDriver data = new CacheDriver(shape, 6, 1200);
        PagedKvCache cache = new PagedKvCache(shape, CacheConfig.of(Policy.ICECACHE_REUSE, 64).withDenseLayers(1),
                new InMemoryPageStore(PageLayout.of(8), CacheConfig.DEFAULT_PAGE_FORMAT),
                new dev.icecache.kvcache.tree.Projection(8, new java.util.SplittableRandom(2)));
        float[][][] out = data.newOutputs(1200);
        data.run(cache, 0, 1000, new int[] {1000}, out);
        // decode: layer 1 searches; layers 2 and 3 reuse its tokens; layer 4 starts a new group
        long[] dots = new long[5];
        for (int p = 1000; p < 1010; p++) {
            for (int l = 0; l < 5; l++) {
                cache.append(l, p, data.k[l][p], 0, data.v[l][p], 0);
                cache.attend(l, p, data.q[l][p], 0, new float[shape.qDim()], 0);
                dots[l] += l == 0 ? 0 : cache.metrics().stepExactDots;
            }
        }
        assertTrue(dots[1] > 0 && dots[4] > 0, java.util.Arrays.toString(dots));
        assertEquals(0, dots[2], java.util.Arrays.toString(dots));
        assertEquals(0, dots[3], java.util.Arrays.toString(dots));
    }

    @Test
    void shouldRejectMisorderedCallsWithClearMessages() {
        CacheShape shape = new CacheShape(1, 1, 1, 4, 64);
        PagedKvCache cache = new PagedKvCache(shape, CacheConfig.of(Policy.ICECACHE, 64).withDenseLayers(0),
                new InMemoryPageStore(PageLayout.of(4), CacheConfig.DEFAULT_PAGE_FORMAT),
                new dev.icecache.kvcache.tree.Projection(4, new java.util.SplittableRandom(2)));
        float[] row = new float[4];
        float[] out = new float[4];
        assertEquals("attend before append: layer=0 position=0 appended=0",
                assertThrows(IllegalStateException.class, () -> cache.attend(0, 0, row, 0, out, 0)).getMessage());
        cache.append(0, 0, row, 0, row, 0);
        cache.append(0, 1, row, 0, row, 0);
        cache.attend(0, 1, row, 0, out, 0);
        cache.append(0, 2, row, 0, row, 0);
        assertEquals("attend layer=0 position=1 precedes the current chunk (first position 2); attend each position "
                + "after appending it and before the next chunk",
                assertThrows(IllegalStateException.class, () -> cache.attend(0, 1, row, 0, out, 0)).getMessage());
        assertEquals("append out of order: layer=0 position=5 expected=3",
                assertThrows(IllegalStateException.class, () -> cache.append(0, 5, row, 0, row, 0)).getMessage());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PagedKvCache(shape,
                CacheConfig.of(Policy.QUEST, 64), new InMemoryPageStore(PageLayout.of(4), PageFormat.F32), null));
        assertEquals("store format=F32 differs from config pageFormat=BF16; use one format for both", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cache(shape, CacheConfig.of(Policy.ICECACHE, 64)
                .withDenseLayers(0)).getClass());
        assertTrue(e.getMessage().contains("projection"), e.getMessage());
    }
}
