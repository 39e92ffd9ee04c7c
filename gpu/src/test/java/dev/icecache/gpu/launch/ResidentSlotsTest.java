package dev.icecache.gpu.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;

/** The device region's slot map: pool, chunk and dense pages each once, nothing past the end. */
class ResidentSlotsTest {

    @Test
    void shouldGiveEveryPageOneSlotAndCoverTheRegion() {
        ResidentSlots s = ResidentSlots.of(PageLayout.of(64), 90, 6, 2, 3, 40, 1000);
        assertEquals(3, s.chunkPages());
        assertEquals(63, s.densePages());
        boolean[] seen = new boolean[s.totalSlots()];
        for (int slot = 0; slot < 90; slot++) {
            seen[slot] = true;
        }
        for (int l = 2; l < 6; l++) {
            for (int h = 0; h < 3; h++) {
                for (int p = 0; p < s.chunkPages(); p++) {
                    int slot = s.chunkSlot(l, h, p);
                    assertTrue(!seen[slot], "chunk slot " + slot + " twice");
                    seen[slot] = true;
                }
            }
        }
        for (int l = 0; l < 2; l++) {
            for (int h = 0; h < 3; h++) {
                for (int p = 0; p < s.densePages(); p++) {
                    int slot = s.denseSlot(l, h, p);
                    assertTrue(!seen[slot], "dense slot " + slot + " twice");
                    seen[slot] = true;
                }
            }
        }
        for (boolean b : seen) {
            assertTrue(b);
        }
        assertEquals((long) s.totalSlots() * 2048 * 2, s.bytes(PageFormat.BF16));
        assertThrows(IndexOutOfBoundsException.class, () -> s.chunkSlot(1, 0, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> s.denseSlot(2, 0, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> s.chunkSlot(2, 0, 3));
    }
}
