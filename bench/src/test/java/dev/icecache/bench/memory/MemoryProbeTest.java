package dev.icecache.bench.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.attention.BlockAttention;
import dev.icecache.kvcache.page.PageFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryProbeTest {

    private static final CacheShape SHAPE = new CacheShape(4, 4, 2, 16, 5017);

    @TempDir
    Path dir;

    @Test
    void shouldKeepThePoolFlatAndTheDenseRowsInTwoBytesForIceCache() throws Exception {
        MemoryCommand.Row small = MemoryCommand.parse(MemoryProbe.probe(MemoryProbe.Cache.ICECACHE, 1200, 128, SHAPE,
                PageFormat.BF16, MemoryProbe.Store.MAPPED, dir));
        MemoryCommand.Row large = MemoryCommand.parse(MemoryProbe.probe(MemoryProbe.Cache.ICECACHE, 5000, 128, SHAPE,
                PageFormat.BF16, MemoryProbe.Store.MAPPED, dir));
        // 2 sparse layers x 2 KV heads x 8 budget pages of 16 rows x (K + V) x 16 floats x 4 bytes
        long pool = 2L * 2 * 8 * 16 * 2 * 16 * 4;
        assertEquals(pool, small.pool());
        assertEquals(pool, large.pool());
        // the 2 dense layers keep every row in BF16: 2 layers x 2 KV heads x 16 values x (K + V) x 2 bytes,
        // in arrays grown by doubling up to maxTokens (5017 positions: the context and one decode slice),
        // rounded up to whole chunks of keys (the layout the attention kernels read)
        int chunk = BlockAttention.keyChunkRows();
        assertEquals(2L * 2 * 16 * 2 * 2 * ((5017 + chunk - 1) / chunk * chunk), large.denseRows());
        // one compact key per indexed token per tree (16 code bytes + a 4-byte scale; 2 sparse layers x 2
        // heads): every position past the 32-token sink and window, less the last chunk of at most 1024
        long most = 2L * 2 * (5000 - 32 - 32);
        long least = 2L * 2 * (5000 - 32 - 32 - 1024);
        assertTrue(large.rankingKeys() >= least * 20 && large.rankingKeys() <= most * 20 * 3 / 2,
                "ranking keys " + large.rankingKeys() + " for " + least + ".." + most + " tokens");
        assertTrue(large.nodeMetadata() > 0 && large.storeBytes() > 0, large.toString());
        // state figures: a decode slice writes less than the chunk before it, but at least its own 16
        // rows per sparse stream (2 layers x 2 heads x 16 x 64 bytes) and the dense layers' 16 rows;
        // a restore reads every index cell (cellBytes) plus sink, window and dense pages
        long sliceRows = 2L * 2 * 16 * 2 * 16 * 2 + 2L * 2 * 16 * 2 * 16 * 2;
        assertTrue(large.sliceStateBytes() >= sliceRows && large.sliceStateBytes() < large.chunkStateBytes(),
                large.toString());
        // what changed is part of what was written, and at least the slice's own new rows
        assertTrue(large.sliceChangedBytes() >= sliceRows && large.sliceChangedBytes() <= large.sliceStateBytes(),
                large.toString());
        assertTrue(large.restoreBytesRead() > large.cellBytes() && large.cellBytes() > 0 && large.restoreNanos() > 0,
                large.toString());
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "the probe deletes its page file");
        }
    }

    @Test
    void shouldCountEveryRowOfEveryLayerForTheFullCache() {
        MemoryCommand.Row full = MemoryCommand.parse(MemoryProbe.probe(MemoryProbe.Cache.FULL_F32, 3000, 128, SHAPE,
                PageFormat.F32, MemoryProbe.Store.HEAP, dir));
        assertEquals(0, full.pool());
        assertEquals(-1, full.sliceStateBytes(), "Full keeps no state");
        assertEquals(4L * 2 * 16 * 2 * 4 * 3000, full.denseRows());
    }

    @Test
    void shouldParseTheProbeLineAmongOtherOutput() {
        MemoryCommand.Row r = MemoryCommand.parse("WARNING: x\nprobe ICECACHE 4096 10 20 30 40 50 60 70 80 90 100 110"
                + " 120 130 140 150 160 170\n");
        assertEquals(new MemoryCommand.Row("ICECACHE", 4096, true, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120,
                130, 140, 150, 160, 170), r);
        assertEquals(60, r.documentBytes());
    }

    @Test
    void shouldNameTheColumnsScriptsReadAndMarkComputedRows() {
        String csv = MemoryCommand.table(List.of(new MemoryCommand.Row("FULL_F16", 1024, false, 1 << 20, -1, -1, -1,
                0, 0, 0, 0, 1 << 20, 0, 0, -1, -1, -1, -1, -1, -1))).csv();
        String header = csv.substring(0, csv.indexOf('\n'));
        assertTrue(header.contains(",heap per token KB,rss per token KB,"), header);
        assertTrue(csv.contains("FULL_F16,1024,computed,1.00,-,"), csv);
    }

    @Test
    void shouldParseJvmSizes() {
        assertEquals(4L << 30, MemoryCommand.parseBytes("4g"));
        assertEquals(512L << 20, MemoryCommand.parseBytes("512M"));
        assertEquals(4096, MemoryCommand.parseBytes("4096"));
        assertThrows(IllegalArgumentException.class, () -> MemoryCommand.parseBytes("lots"));
    }

    @Test
    void shouldRejectOutputWithoutAProbeLine() {
        assertThrows(IllegalArgumentException.class, () -> MemoryCommand.parse("memory probe failed: OOM\n"));
        assertThrows(IllegalArgumentException.class, () -> MemoryCommand.parse("probe ICECACHE 1 2\n"));
    }
}
