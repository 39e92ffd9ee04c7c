package dev.icecache.kvcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.tree.DciParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CacheConfigTest {

    @ParameterizedTest
    @CsvSource({
        // budget, sink, retrieved, window
        "64, 1, 2, 1",
        "96, 1, 4, 1",
        "128, 2, 4, 2",
        "256, 2, 12, 2",
        "48, 1, 1, 1",
        "64000, 2, 3996, 2",
    })
    void shouldComposeTheBudgetIdenticallyForEveryPolicy(int budget, int sink, int retrieved, int window) {
        for (Policy p : Policy.values()) {
            CacheConfig c = CacheConfig.of(p, budget);
            assertEquals(budget / 16, c.budgetPages());
            assertEquals(sink, c.sinkPages(), p + " " + budget);
            assertEquals(window, c.windowPages(), p + " " + budget);
            assertEquals(retrieved, c.retrievedPages(), p + " " + budget);
            assertEquals(budget / 16, c.sinkPages() + c.retrievedPages() + c.windowPages());
            assertEquals(2, c.denseLayers());
        }
    }

    @Test
    void shouldExplainEveryInvalidSetting() {
        assertEquals("budgetTokens=100 must be a positive multiple of 16 (e.g. 64, 128, 256)",
                assertThrows(IllegalArgumentException.class, () -> CacheConfig.of(Policy.QUEST, 100)).getMessage());
        assertEquals("budgetTokens=16 leaves no page to retrieve after sink + window (32 tokens); use at least 48",
                assertThrows(IllegalArgumentException.class, () -> CacheConfig.of(Policy.QUEST, 16)).getMessage());
        for (Policy sparse : Policy.values()) {
            if (sparse != Policy.FULL) {
                assertEquals("budgetTokens=32 leaves no page to retrieve after sink + window (32 tokens); use at least 48",
                        assertThrows(IllegalArgumentException.class, () -> CacheConfig.of(sparse, 32)).getMessage(),
                        sparse.name());
            }
        }
        assertEquals(32, CacheConfig.of(Policy.FULL, 32).budgetTokens(), "FULL ignores the budget");
        assertEquals("budgetTokens=0 must be a positive multiple of 16 (e.g. 64, 128, 256)",
                assertThrows(IllegalArgumentException.class, () -> CacheConfig.of(Policy.QUEST, 0)).getMessage());
        assertEquals("denseLayers=-1 must be >= 0", assertThrows(IllegalArgumentException.class,
                () -> CacheConfig.of(Policy.ICECACHE, 64).withDenseLayers(-1)).getMessage());
        DciParams leaves8 = new DciParams(0.01, 0.2, 8, 3000, 60, 0.8, 30, 0.0015, 0);
        assertEquals("treeParams.leafCapacity=8 must equal the page size 16: tree leaves are the pages",
                assertThrows(IllegalArgumentException.class,
                        () -> new CacheConfig(Policy.ICECACHE, 64, 2, PageFormat.F32, leaves8)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CacheConfig(null, 64, 2, PageFormat.F32,
                DciParams.defaults()));
    }

    @Test
    void shouldBuildTheSelectorOfEachPolicyThroughOneMap() {
        assertEquals(2, Policy.ICECACHE_REUSE.reuseLayers());
        assertEquals(0, Policy.ICECACHE.reuseLayers());
        for (Policy p : Policy.values()) {
            var spec = new dev.icecache.kvcache.select.SelectorSpec(new dev.icecache.kvcache.CacheShape(1, 1, 1, 4, 64),
                    0, 32, 16, DciParams.defaults(), new dev.icecache.kvcache.tree.Projection(4,
                    new java.util.SplittableRandom(1)), p.reuseLayers());
            String simple = p.newSelector(spec).getClass().getSimpleName();
            assertEquals(switch (p) {
                case FULL -> "FullSelector";
                case STREAMING -> "StreamingSelector";
                case QUEST -> "QuestSelector";
                case ORACLE -> "OracleSelector";
                case ICECACHE, ICECACHE_REUSE -> "IceCacheSelector";
            }, simple);
        }
    }
}
