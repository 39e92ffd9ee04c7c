package dev.icecache.kvcache.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.MappedFilePageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PageStore;
import dev.icecache.kvcache.tree.Projection;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Snapshot, then restore into a new cache: the outputs afterwards are those of the uninterrupted cache. */
class PagedKvCacheSnapshotTest {

    private static final CacheShape SHAPE = new CacheShape(4, 4, 2, 8, 600);
    private static final int[] CHUNKS = {97, 1, 1, 1, 50, 1, 1};

    @TempDir
    Path dir;

    private static Projection projection() {
        return new Projection(SHAPE.headDim(), new SplittableRandom(5));
    }

    /** Runs to {@code cut} with snapshots along the way, restores, runs to the end; compares with one run. */
    private void assertRestoreContinuesIdentically(CacheConfig config, boolean mappedFile) {
        int n = SHAPE.maxTokens();
        CacheDriver data = new CacheDriver(SHAPE, 31, n);
        float[][][] expected = data.newOutputs(n);
        PageLayout layout = PageLayout.of(SHAPE.headDim());
        PagedKvCache reference = new PagedKvCache(SHAPE, config, new InMemoryPageStore(layout, config.pageFormat()),
                projection());
        // outputs depend on chunk boundaries (a chunk attends to itself causally), so the reference
        // runs the same segments as the interrupted cache, only without snapshot and restore
        int[] segments = {0, 200, 377, n};
        for (int i = 0; i + 1 < segments.length; i++) {
            data.run(reference, segments[i], segments[i + 1], CHUNKS, expected);
        }

        Path file = dir.resolve(config.policy() + ".pages");
        PageStore store = mappedFile ? new MappedFilePageStore(file, layout, config.pageFormat())
                : new InMemoryPageStore(layout, config.pageFormat());
        PagedKvCache first = new PagedKvCache(SHAPE, config, store, projection());
        float[][][] actual = data.newOutputs(n);
        Map<String, byte[]> cells = new HashMap<>();
        byte[] header = null;
        int cut = 0;
        // two snapshots, so the second one carries only the cells changed since the first
        for (int stop : new int[] {segments[1], segments[2]}) {
            data.run(first, cut, stop, CHUNKS, actual);
            CacheSnapshot snap = first.snapshot();
            for (int i = 0; i < snap.cellCount(); i++) {
                cells.put(snap.cellLayer()[i] + "/" + snap.cellHead()[i] + "/" + snap.cellId()[i], snap.cellBytes()[i]);
            }
            header = snap.header();
            cut = stop;
        }
        if (mappedFile) {
            store.close();
            store = new MappedFilePageStore(file, layout, config.pageFormat());
        }
        PagedKvCache restored = PagedKvCache.restore(SHAPE, config, store, projection(), header,
                (l, h, c) -> cells.get(l + "/" + h + "/" + c));
        assertEquals(cut, restored.length());
        data.run(restored, cut, n, CHUNKS, actual);
        for (int l = 0; l < SHAPE.nLayers(); l++) {
            for (int p = 0; p < n; p++) {
                assertArrayEquals(expected[l][p], actual[l][p], config.policy() + " layer=" + l + " position=" + p);
            }
        }
        store.close();
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void shouldContinueIdenticallyAfterRestoreAtASmallBudget(Policy policy) {
        assertRestoreContinuesIdentically(CacheConfig.of(policy, 64).withDenseLayers(1), false);
    }

    @ParameterizedTest
    @EnumSource(value = Policy.class, names = {"QUEST", "ICECACHE"})
    void shouldContinueIdenticallyAfterReopeningAMappedFileStoreWithBf16Pages(Policy policy) {
        assertRestoreContinuesIdentically(CacheConfig.of(policy, 128).withPageFormat(PageFormat.BF16), true);
    }

    @Test
    void shouldRejectAHeaderTakenWithAnotherConfig() {
        PageLayout layout = PageLayout.of(SHAPE.headDim());
        InMemoryPageStore store = new InMemoryPageStore(layout, CacheConfig.DEFAULT_PAGE_FORMAT);
        PagedKvCache cache = new PagedKvCache(SHAPE, CacheConfig.of(Policy.QUEST, 64), store, null);
        byte[] header = cache.snapshot().header();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PagedKvCache.restore(SHAPE,
                CacheConfig.of(Policy.QUEST, 128), store, null, header, (l, h, c) -> null));
        assertTrue(e.getMessage().startsWith("snapshot taken with policy#2 budget=64"), e.getMessage());
        byte[] truncated = java.util.Arrays.copyOf(header, 20);
        e = assertThrows(IllegalArgumentException.class, () -> PagedKvCache.restore(SHAPE,
                CacheConfig.of(Policy.QUEST, 64), store, null, truncated, (l, h, c) -> null));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void shouldRefuseASnapshotInTheMiddleOfAChunk() {
        PagedKvCache cache = new PagedKvCache(SHAPE, CacheConfig.of(Policy.QUEST, 64),
                new InMemoryPageStore(PageLayout.of(SHAPE.headDim()), CacheConfig.DEFAULT_PAGE_FORMAT), null);
        float[] row = new float[SHAPE.kvDim()];
        for (int l = 0; l < SHAPE.nLayers(); l++) {
            cache.append(l, 0, row, 0, row, 0);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, cache::snapshot);
        assertTrue(e.getMessage().startsWith("snapshot mid-chunk: layer=2"), e.getMessage());
    }
}
