package dev.icecache.kvcache.page;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PageLayoutTest {

    @Test
    void shouldPlaceKeyRowsBeforeValueRows() {
        PageLayout l = new PageLayout(16, 8);
        assertEquals(256, l.floatsPerPage());
        assertEquals(0, l.keyOffset(0));
        assertEquals(8 * 15, l.keyOffset(15));
        assertEquals(128, l.valueOffset(0));
        assertEquals(128 + 8 * 3, l.valueOffset(3));
        assertEquals(256 * 5, l.blockOffset(5));
        assertEquals(1024L, l.bytesPerPage(PageFormat.F32));
        assertEquals(512L, l.bytesPerPage(PageFormat.BF16));
    }

    @Test
    void shouldFailInsteadOfOverflowingWhenTooManyBlocks() {
        PageLayout l = new PageLayout(16, 1024);
        assertThrows(ArithmeticException.class, () -> l.blockOffset(1 << 20));
    }

    @Test
    void shouldRejectBadShapesWithTheValueInTheMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PageLayout(0, 8));
        assertEquals("rowsPerPage=0 must be in [1, 1024]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PageLayout.of(8).checkValidRows(17));
    }
}
