package dev.icecache.kvcache.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.metrics.CacheMetrics;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The v1 header bytes, built here from the documented layout, and the pages the snapshot stores. */
class CacheSnapshotFormatTest {

    @Test
    void shouldWriteTheDocumentedV1Header() {
        CacheShape shape = new CacheShape(2, 2, 1, 4, 300);
        InMemoryPageStore store = new InMemoryPageStore(PageLayout.of(4), PageFormat.BF16);
        PagedKvCache cache = new PagedKvCache(shape, CacheConfig.of(Policy.QUEST, 64).withDenseLayers(1)
                .withPageFormat(PageFormat.BF16), store, null);
        CacheDriver data = new CacheDriver(shape, 1, 300);
        data.run(cache, 0, 90, new int[] {60, 1}, data.newOutputs(300));
        CacheSnapshot snap = cache.snapshot();

        CacheMetrics m = cache.metrics();
        ByteBuffer b = ByteBuffer.allocate(4 * 15 + 8 * 7).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {'I', 'C', 'K', 'V'}).putInt(1);
        b.putInt(2).putInt(2).putInt(1).putInt(4).putInt(300);
        b.putInt(2).putInt(64).putInt(1).putInt(1); // policy code 2 = QUEST, format code 1 = BF16 (frozen codes)
        // budget 64: sink 16 positions, window one page; 90 positions: pages of 16 from 16, the last
        // (partial) page index (89 - 16) / 16 = 4 is the window, so windowFirst = 4
        b.putInt(90).putInt(0);
        b.putInt(90).putInt(4);
        b.putLong(m.steps).putLong(m.pagesSelected).putLong(m.residentHits).putLong(m.pagesMoved)
                .putLong(m.bytesMoved).putLong(m.exactDots).putLong(m.pagesWritten);
        assertArrayEquals(b.array(), snap.header());
        assertEquals(0, snap.cellCount(), "Quest restores by replay: no cells");
        // dense layer 0: ceil(90 / 16) = 6 pages; layer 1: 1 sink + 4 index pages + 1 window page
        assertEquals(6 + 1 + 4 + 1, store.pageCount());
        float[] block = new float[PageLayout.of(4).floatsPerPage()];
        assertEquals(90 - 16 - 4 * 16, store.read(1, 0, EdgeRing.WINDOW_ID_BASE + 4 % 1, block, 0));
        assertEquals(16, store.read(1, 0, EdgeRing.SINK_ID_BASE, block, 0));
        assertEquals(90 - 5 * 16, store.read(0, 0, 5, block, 0));
    }

    @Test
    void shouldKeepEverySavedCodeFrozen() {
        // literal codes: saved headers, page files and serialized pages hold these numbers
        assertEquals(0, Policy.FULL.code());
        assertEquals(1, Policy.STREAMING.code());
        assertEquals(2, Policy.QUEST.code());
        assertEquals(3, Policy.ORACLE.code());
        assertEquals(4, Policy.ICECACHE.code());
        assertEquals(5, Policy.ICECACHE_REUSE.code());
        assertEquals(0, PageFormat.F32.code());
        assertEquals(1, PageFormat.BF16.code());
        for (Policy p : Policy.values()) {
            assertEquals(p, Policy.ofCode(p.code()));
        }
        for (PageFormat f : PageFormat.values()) {
            assertEquals(f, PageFormat.ofCode(f.code()));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PageFormat.ofCode(7));
        assertTrue(e.getMessage().contains("code=7"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Policy.ofCode(-1));
    }
}
