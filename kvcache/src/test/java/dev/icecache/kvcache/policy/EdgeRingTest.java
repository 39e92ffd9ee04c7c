package dev.icecache.kvcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PagePool;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The sink / window addressing against hand-computed slots, rows and store ids (budget 256: 2 + 2 pages). */
class EdgeRingTest {

    private static EdgeRing ring(PagePool pool) {
        EdgeRing ring = new EdgeRing(16, CacheConfig.of(Policy.QUEST, 256), 1, 1);
        assertTrue(pool.tryReserve(ring.pinnedPages()));
        ring.pin(pool, 0, 0, 0);
        return ring;
    }

    @Test
    void shouldAddressSinkAndWindowPositionsAndEvictTheOldestWindowPage() {
        PagePool pool = new PagePool(PageLayout.of(4), 4);
        EdgeRing ring = ring(pool);
        assertEquals(4, ring.pinnedPages());
        assertEquals(32, ring.sinkTokens());
        // slots are taken in order: sink 0, sink 1, window entry 0, window entry 1
        int sink0 = ring.slot(0, 0);
        int sink1 = ring.slot(0, 16);
        int win0 = ring.slot(0, 32);
        int win1 = ring.slot(0, 48);
        assertEquals(4, List.of(sink0, sink1, win0, win1).stream().distinct().count());
        assertEquals(sink1, ring.slot(0, 31));
        assertEquals(15, ring.row(31));
        assertEquals(3, ring.row(51));
        assertEquals(32, ring.windowStart(0));
        // positional window pages 0 (32..47) and 1 (48..63) fill the ring; page 2 needs an eviction
        assertFalse(ring.full(0, 63));
        assertTrue(ring.full(0, 64));
        assertFalse(ring.full(0, 5), "sink positions never evict");
        assertEquals(32, ring.oldestStart(0));
        assertEquals(win0, ring.oldestSlot(0, 0));
        ring.advance(0);
        assertFalse(ring.full(0, 64));
        assertEquals(win0, ring.slot(0, 64), "page 2 reuses ring entry 2 % 2 = 0");
        assertEquals(48, ring.windowStart(0));
        assertEquals(win1, ring.oldestSlot(0, 0));
    }

    @Test
    void shouldVisitThePagesHoldingARangeWithTheirValidRows() {
        PagePool pool = new PagePool(PageLayout.of(4), 4);
        EdgeRing ring = ring(pool);
        ring.advance(0); // window holds pages 1 and 2: positions 48..79
        List<String> seen = new ArrayList<>();
        EdgeRing.PageVisitor record = (slot, id, rows, sink, page) -> seen.add((sink ? "s" : "w") + page + ":"
                + (sink ? id - EdgeRing.SINK_ID_BASE : id - EdgeRing.WINDOW_ID_BASE) + ":" + rows + "@" + slot);
        ring.forEachPage(0, 0, 0, 70, record);
        assertEquals(List.of("s0:0:16@" + ring.slot(0, 0), "s1:1:16@" + ring.slot(0, 16),
                "w1:1:16@" + ring.slot(0, 48), "w2:0:6@" + ring.slot(0, 64)), seen);
        seen.clear();
        ring.forEachPage(0, 0, 66, 70, record); // only the page that gained rows 66..69
        assertEquals(List.of("w2:0:6@" + ring.slot(0, 64)), seen);
        seen.clear();
        EdgeRing fresh = ring(new PagePool(PageLayout.of(4), 4));
        fresh.forEachPage(0, 0, 20, 40, record); // from inside the sink: sink page 1, then window page 0
        assertEquals(List.of("s1:1:16@" + fresh.slot(0, 16), "w0:0:8@" + fresh.slot(0, 32)), seen);
    }
}
