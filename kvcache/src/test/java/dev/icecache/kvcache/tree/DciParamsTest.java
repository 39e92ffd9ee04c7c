package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DciParamsTest {

    @Test
    void shouldHoldTheReferenceDefaults() {
        assertEquals(new DciParams(0.01, 0.2, 16, 3000, 60, 0.8, 30, 0.0015, 1024), DciParams.defaults());
        assertEquals(new DciParams(0.01, 0.2, 16, 3000, 60, 0.8, 30, 0.0015, 0), DciParams.paper());
    }

    @Test
    void shouldComputeFieldOfViewAsMaxOfFloorAndShare() {
        DciParams p = DciParams.defaults();
        assertEquals(30, p.fieldOfView(1000));   // 0.0015 * 1000 = 1.5 < 30
        assertEquals(30, p.fieldOfView(20_000)); // exactly 30
        assertEquals(150, p.fieldOfView(100_000));
    }

    @Test
    void shouldKeepEveryNodeWhenExhaustive() {
        DciParams p = DciParams.defaults().withExhaustiveSearch();
        assertTrue(p.exhaustive());
        assertEquals(1.0, p.scanProportion());
        assertEquals(Integer.MAX_VALUE, p.fieldOfView(5));
    }

    @Test
    void shouldRejectOddLeafCapacity() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DciParams(0.01, 0.2, 15, 3000, 60, 0.8, 30, 0.0015, 0));
        assertTrue(e.getMessage().contains("leafCapacity=15"), e.getMessage());
    }

    @Test
    void shouldRejectPromotionShareOutsideUnitInterval() {
        assertThrows(IllegalArgumentException.class, () -> new DciParams(1.0, 0.2, 16, 3000, 60, 0.8, 30, 0.0015, 0));
    }
}
