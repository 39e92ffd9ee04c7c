package dev.icecache.kvcache.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PageStore;
import dev.icecache.kvcache.tree.Projection;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Snapshots write what changed: a sink page once it has its rows, a window page when it gains
 * rows, nothing for an unchanged cache; and a cache restored from such snapshots, taken at
 * every element boundary, continues exactly like the uninterrupted one.
 */
class PagedKvCacheStateWritesTest {

    private static final CacheShape SHAPE = new CacheShape(4, 4, 2, 8, 700);
    private static final CacheConfig CONFIG = CacheConfig.of(Policy.ICECACHE, 128).withDenseLayers(1)
            .withPageFormat(PageFormat.F32);
    /** Element sizes: a prefill chunk, decode slices of 16 and of 1, another chunk. */
    private static final int[] ELEMENTS = {97, 16, 16, 1, 1, 16, 150, 16, 3, 16};

    /** Counts edge (sink and window) page writes, whose store ids are negative, over an in-memory store. */
    private static final class CountingStore implements PageStore {
        final InMemoryPageStore pages = new InMemoryPageStore(PageLayout.of(SHAPE.headDim()), CONFIG.pageFormat());
        int edgeWrites;
        int writes;
        int unchangedWrites;   // page writes whose rows equal what the store already held
        long changedRows;      // rows that differ from (or extend) the stored page
        long maskedRows;       // rows writeRows was told changed
        private final float[] old = new float[PageLayout.of(SHAPE.headDim()).floatsPerPage()];

        @Override
        public PageLayout layout() {
            return pages.layout();
        }

        @Override
        public PageFormat format() {
            return pages.format();
        }

        @Override
        public int read(int layer, int kvHead, int pageId, float[] dst, int dstOff) {
            return pages.read(layer, kvHead, pageId, dst, dstOff);
        }

        @Override
        public void write(int layer, int kvHead, int pageId, float[] src, int srcOff, int validRows) {
            if (pageId < 0) {
                edgeWrites++;
            }
            writes++;
            PageLayout l = pages.layout();
            int stored = pages.read(layer, kvHead, pageId, old, 0);
            int changed = stored == validRows ? 0 : Math.abs(validRows - Math.max(0, stored));
            for (int r = 0; r < Math.min(validRows, stored); r++) {
                int k = l.keyOffset(r);
                int v = l.valueOffset(r);
                int d = l.headDim();
                if (!java.util.Arrays.equals(old, k, k + d, src, srcOff + k, srcOff + k + d)
                        || !java.util.Arrays.equals(old, v, v + d, src, srcOff + v, srcOff + v + d)) {
                    changed++;
                }
            }
            changedRows += changed;
            if (changed == 0) {
                unchangedWrites++;
            }
            pages.write(layer, kvHead, pageId, src, srcOff, validRows);
        }

        /** Checks the caller's promise: every row outside the mask equals the stored row. */
        @Override
        public void writeRows(int layer, int kvHead, int pageId, float[] src, int srcOff, int validRows,
                              long changedRows) {
            PageLayout l = pages.layout();
            int stored = pages.read(layer, kvHead, pageId, old, 0);
            int d = l.headDim();
            for (int r = 0; r < validRows; r++) {
                if (r < Long.SIZE && (changedRows & (1L << r)) == 0) {
                    assertTrue(r < stored, "row " + r + " of page " + pageId + " is past the stored " + stored
                            + " rows but not marked changed");
                    int k = l.keyOffset(r);
                    int v = l.valueOffset(r);
                    assertTrue(java.util.Arrays.equals(old, k, k + d, src, srcOff + k, srcOff + k + d)
                            && java.util.Arrays.equals(old, v, v + d, src, srcOff + v, srcOff + v + d),
                            "row " + r + " of page " + pageId + " changed but is not marked");
                } else if (r < Long.SIZE) {
                    maskedRows++;
                }
            }
            write(layer, kvHead, pageId, src, srcOff, validRows);
        }

        @Override
        public boolean delete(int layer, int kvHead, int pageId) {
            return pages.delete(layer, kvHead, pageId);
        }

        @Override
        public int pageCount() {
            return pages.pageCount();
        }

        @Override
        public void close() {
            pages.close();
        }
    }

    /**
     * Decode slices of 16 positions after a long prefill: every page a slice's snapshot writes
     * (window, index pages the tree's leaves rippled through) changes in the store, and each
     * slice changes at least its 16 new rows per sparse stream; the ripple's cost is bounded by
     * {@code ChildIndex.RIPPLE_LEAVES} pages per inserted token plus the new window page.
     */
    @Test
    void shouldWriteOnlyPagesWhoseRowsChangedInDecodeSlices() {
        int prefill = 600;
        int slices = 5;
        CacheDriver data = new CacheDriver(SHAPE, 43, prefill + 16 * slices);
        CountingStore store = new CountingStore();
        PagedKvCache cache = new PagedKvCache(SHAPE, CONFIG, store, projection());
        float[][][] out = data.newOutputs(prefill + 16 * slices);
        data.run(cache, 0, prefill, new int[] {prefill}, out);
        cache.snapshot();
        int sparseStreams = (SHAPE.nLayers() - CONFIG.denseLayers()) * SHAPE.nKvHeads();
        for (int i = 0; i < slices; i++) {
            int at = prefill + 16 * i;
            store.writes = 0;
            store.unchangedWrites = 0;
            store.changedRows = 0;
            store.maskedRows = 0;
            data.run(cache, at, at + 16, new int[] {1}, out);
            cache.snapshot();
            assertEquals(0, store.unchangedWrites, "slice " + i + ": " + store.writes + " page writes, "
                    + store.unchangedWrites + " of them unchanged");
            assertTrue(store.changedRows >= 16L * sparseStreams, "slice " + i + " changed " + store.changedRows);
            assertTrue(store.maskedRows > 0, "slice " + i + ": the tree's moves name the rows they change");
            // per sparse stream: one window page, and per inserted token its leaf plus at most
            // RIPPLE_LEAVES rippled leaves (a split writes 2 pages); dense layers: 1-2 pages each
            long most = sparseStreams * (1 + 16L * (1 + 8)) + 2L * CONFIG.denseLayers() * SHAPE.nKvHeads();
            assertTrue(store.writes <= most, "slice " + i + " wrote " + store.writes + " pages, at most " + most);
        }
    }

    private static Projection projection() {
        return new Projection(SHAPE.headDim(), new SplittableRandom(5));
    }

    @Test
    void shouldWriteOnlyTheEdgePagesThatGainedRowsAndContinueIdenticallyAfterRestore() {
        int n = 0;
        for (int e : ELEMENTS) {
            n += e;
        }
        int[] one = {1};
        CacheDriver data = new CacheDriver(SHAPE, 41, n);
        float[][][] expected = data.newOutputs(n);
        PagedKvCache reference = new PagedKvCache(SHAPE, CONFIG, new InMemoryPageStore(PageLayout.of(SHAPE.headDim()),
                PageFormat.F32), projection());
        CountingStore store = new CountingStore();
        PagedKvCache cache = new PagedKvCache(SHAPE, CONFIG, store, projection());
        float[][][] actual = data.newOutputs(n);
        Map<String, byte[]> cells = new HashMap<>();
        int rows = CacheConfig.PAGE_ROWS;
        int sparseStreams = (SHAPE.nLayers() - CONFIG.denseLayers()) * SHAPE.nKvHeads();
        int at = 0;
        int restoreAfter = 6;
        for (int i = 0; i < ELEMENTS.length; i++) {
            int end = at + ELEMENTS[i];
            int[] chunk = ELEMENTS[i] == 16 || ELEMENTS[i] == 1 ? one : new int[] {ELEMENTS[i]};
            data.run(reference, at, end, chunk, expected);
            data.run(cache, at, end, chunk, actual);
            store.edgeWrites = 0;
            CacheSnapshot snap = cache.snapshot();
            // pages holding a position in [at, end): sink pages below sinkTokens, window pages above
            int touched = 0;
            for (int page = at / rows; page * rows < end; page++) {
                touched++;
            }
            touched += 1; // the sink / window boundary may split one page range into two
            assertTrue(store.edgeWrites <= touched * sparseStreams, "element " + i + " (" + at + ".." + end
                    + ") wrote " + store.edgeWrites + " edge pages, at most " + touched * sparseStreams + " changed");
            store.edgeWrites = 0;
            cache.snapshot();
            assertEquals(0, store.edgeWrites, "a snapshot of an unchanged cache writes no edge page");
            for (int c = 0; c < snap.cellCount(); c++) {
                cells.put(snap.cellLayer()[c] + "/" + snap.cellHead()[c] + "/" + snap.cellId()[c], snap.cellBytes()[c]);
            }
            if (i == restoreAfter) {
                cache = PagedKvCache.restore(SHAPE, CONFIG, store, projection(), snap.header(),
                        (l, h, c) -> cells.get(l + "/" + h + "/" + c));
            }
            at = end;
        }
        for (int l = 0; l < SHAPE.nLayers(); l++) {
            for (int p = 0; p < n; p++) {
                assertArrayEquals(expected[l][p], actual[l][p], "layer=" + l + " position=" + p);
            }
        }
    }
}
