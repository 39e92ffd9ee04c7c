package dev.icecache.kvcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.select.IceCacheSelector;
import dev.icecache.kvcache.tree.DciTree;
import dev.icecache.kvcache.tree.Projection;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * 100k synthetic tokens through one sparse layer at a 256-token budget: the pool never holds more
 * than the budget's pages, each attend reduces over at most budget + chunk rows, and everything
 * else went to the store.
 */
class PagedKvCacheResidencyTest {

    private static final int TOKENS = 100_000;
    private static final int CHUNK = 512;

    @ParameterizedTest
    @CsvSource({"ICECACHE, 2, 16", "QUEST, 1, 32", "STREAMING, 2, 8"})
    void shouldKeepResidentPagesWithinThePoolFor100kTokens(Policy policy, int kvHeads, int headDim) {
        CacheShape shape = new CacheShape(1, 2 * kvHeads, kvHeads, headDim, TOKENS);
        CacheConfig config = CacheConfig.of(policy, 256).withDenseLayers(0);
        InMemoryPageStore store = new InMemoryPageStore(PageLayout.of(headDim), config.pageFormat());
        PagedKvCache cache = new PagedKvCache(shape, config, store, new Projection(headDim, new SplittableRandom(1)));
        int poolPages = kvHeads * 256 / 16;
        assertEquals(poolPages, cache.poolCapacityPages(), "pool = budget pages x KV heads, whatever the length");
        SplittableRandom rnd = new SplittableRandom(42);
        float[] k = new float[shape.kvDim()];
        float[] v = new float[shape.kvDim()];
        float[] q = new float[shape.qDim()];
        float[] out = new float[shape.qDim()];
        for (int start = 0; start < TOKENS; start += CHUNK) {
            int end = Math.min(TOKENS, start + CHUNK);
            for (int p = start; p < end; p++) {
                fill(k, rnd);
                fill(v, rnd);
                cache.append(0, p, k, 0, v, 0);
            }
            assertTrue(cache.chunkRows(0) <= CHUNK, "chunk rows " + cache.chunkRows(0));
            // every 64th position of the chunk and its last one (attending all 100k is the JMH's job)
            for (int p = start; p < end; p++) {
                if ((p - start) % 64 == 0 || p == end - 1) {
                    fill(q, rnd);
                    cache.attend(0, p, q, 0, out, 0);
                    assertTrue(cache.lastAttendedRows() <= 256 + CHUNK, "rows=" + cache.lastAttendedRows() + " at " + p);
                    assertTrue(cache.residentPages() <= poolPages, "resident=" + cache.residentPages() + " at " + p);
                    assertTrue(Float.isFinite(out[0]));
                }
            }
        }
        assertTrue(cache.peakResidentPages() <= poolPages, "peak=" + cache.peakResidentPages());
        // the last chunk is still the current chunk; of the rest, all but sink and window (one full
        // page plus the filling one) left the resident tier for the store and the index
        int committed = TOKENS - (TOKENS % CHUNK == 0 ? CHUNK : TOKENS % CHUNK);
        assertEquals(TOKENS - committed, cache.chunkRows(0));
        int windowTokens = (committed - 32 - 1) % 16 + 1 + 16;
        int indexed = committed - 32 - windowTokens;
        int livePages = 0;
        for (int h = 0; h < kvHeads; h++) {
            if (policy == Policy.ICECACHE) {
                // the tree's pages and the recent positional pages held before the tree [issue 18]
                IceCacheSelector sel = (IceCacheSelector) cache.selector();
                int rows = 0;
                int recentRows = 0;
                for (int page = 0; page < sel.pageIdLimit(0, h); page++) {
                    rows += sel.pageSize(0, h, page);
                    recentRows += page < sel.treePageOffset(0, h) ? sel.pageSize(0, h, page) : 0;
                    livePages += sel.pageSize(0, h, page) > 0 ? 1 : 0;
                }
                assertEquals(indexed, rows);
                DciTree tree = sel.tree(0, h);
                assertEquals(indexed - recentRows, tree.size());
                assertTrue(recentRows > 0 && recentRows <= 16 * config.retrievedPages() / 2, "recent rows=" + recentRows);
            } else {
                livePages += indexed / 16;
            }
        }
        assertEquals(livePages, store.pageCount(), "every index page, and nothing else yet, is in the store");
        assertTrue(cache.metrics().pagesMoved > 0);
    }

    private static void fill(float[] a, SplittableRandom rnd) {
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
    }
}
