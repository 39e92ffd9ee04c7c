package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DciParamsTest {

    @Test
    void shouldHoldTheReferenceDefaults() {
        assertEquals(new DciParams(0.01, 0.2, 16, 3000, 60, 0.8, 30, 0.0015, 1024, PageScore.ATTENTION_MASS,
                DciParams.AUTO_RECENT_PAGES), DciParams.defaults());
        assertEquals(new DciParams(0.01, 0.2, 16, 3000, 60, 0.8, 30, 0.0015, 0, PageScore.BEST_KEY, 0),
                DciParams.paper());
        assertEquals(DciParams.paper(), new DciParams(0.01, 0.2, 16, 3000, 60, 0.8, 30, 0.0015, 0));
    }

    @Test
    void shouldRaiseP0OnlyWhereEveryTreeIsSearchedExhaustively() {
        assertEquals(DciParams.SHORT_CONTEXT_P0, DciParams.defaults().forContext(1024).p0());
        assertEquals(DciParams.defaults(), DciParams.defaults().forContext(1025));
        assertEquals(DciParams.paper(), DciParams.paper().forContext(512), "the paper's setting is never changed");
        assertEquals(DciParams.bestKeyDefaults(), DciParams.bestKeyDefaults().forContext(512));
        assertEquals(new DciParams(0.01, 0.2, 16, 3000, 60, 0.8, 30, 0.0015, 1024), DciParams.bestKeyDefaults());
        DciParams shortContext = DciParams.defaults().forContext(512);
        assertEquals(DciParams.defaults().withExhaustiveSearch().p1(), shortContext.p1());
        assertEquals(DciParams.defaults().pageScore(), shortContext.pageScore());
    }

    @Test
    void shouldRejectRecentPagesOutOfRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DciParams.defaults().withRecentPages(DciParams.MAX_RECENT_PAGES + 1));
        assertTrue(e.getMessage().contains("recentPages=65"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DciParams.defaults().withRecentPages(-2));
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
