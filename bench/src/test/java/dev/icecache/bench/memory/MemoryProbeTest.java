package dev.icecache.bench.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.policy.Policy;
import org.junit.jupiter.api.Test;

class MemoryProbeTest {

    private static final CacheShape SHAPE = new CacheShape(4, 4, 2, 16, 5001);

    @Test
    void shouldKeepTheResidentPoolFlatInContextLengthForIceCache() {
        MemoryCommand.Row small = MemoryCommand.parse(MemoryProbe.probe(Policy.ICECACHE, 1200, 128, SHAPE));
        MemoryCommand.Row large = MemoryCommand.parse(MemoryProbe.probe(Policy.ICECACHE, 5000, 128, SHAPE));
        // 2 sparse layers x 2 KV heads x 8 budget pages of 16 rows x (K + V) x 16 floats x 4 bytes
        long pool = 2L * 2 * 8 * 16 * 2 * 16 * 4;
        assertEquals(pool, small.poolBytes());
        assertEquals(pool, large.poolBytes());
        assertEquals(small.capacityPages(), large.capacityPages());
        // the 2 dense layers keep every row: 2 layers x 2 KV heads x 16 floats x (K + V) x 4 bytes per position
        assertEquals(2L * 2 * 16 * 2 * 4 * 5000, large.wholeRowBytes());
    }

    @Test
    void shouldCountEveryRowOfEveryLayerForTheFullCache() {
        MemoryCommand.Row full = MemoryCommand.parse(MemoryProbe.probe(Policy.FULL, 3000, 128, SHAPE));
        assertEquals(0, full.poolBytes());
        assertEquals(4L * 2 * 16 * 2 * 4 * 3000, full.wholeRowBytes());
    }

    @Test
    void shouldParseTheProbeLineAmongOtherOutput() {
        MemoryCommand.Row r = MemoryCommand.parse("WARNING: x\nprobe QUEST 4096 10 20 30 40 50 60\n");
        assertEquals(new MemoryCommand.Row(Policy.QUEST, 4096, 10, 20, 30, 40, 50, 60), r);
    }

    @Test
    void shouldRejectOutputWithoutAProbeLine() {
        assertThrows(IllegalArgumentException.class, () -> MemoryCommand.parse("memory probe failed: OOM\n"));
        assertThrows(IllegalArgumentException.class, () -> MemoryCommand.parse("probe QUEST 1 2\n"));
    }
}
