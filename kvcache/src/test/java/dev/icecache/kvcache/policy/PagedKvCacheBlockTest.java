package dev.icecache.kvcache.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.tree.Projection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link PagedKvCache#attendBlock} under a budget smaller than the index: one page selection per
 * (layer, KV head) and block. Checked through the attended positions: every query of a block
 * attends the same indexed pages, all of sink, window and the block's rows up to itself, nothing
 * after itself; and the outputs equal per-position attention over exactly those rows (a second
 * cache that attends position by position with the block's selection is not available, so the
 * reference is HeadAttention over the observed rows).
 */
class PagedKvCacheBlockTest {

    private static final int[] CHUNKS = {200, 32, 7, 32, 1, 32};

    @ParameterizedTest
    @EnumSource(value = Policy.class, names = {"QUEST", "ICECACHE", "ICECACHE_REUSE", "STREAMING"})
    void shouldSelectOnceForEveryQueryOfABlock(Policy policy) {
        CacheShape shape = new CacheShape(4, 4, 2, 8, 900);
        int n = 700;
        CacheDriver data = new CacheDriver(shape, 5, n);
        CacheConfig config = CacheConfig.of(policy, 48).withDenseLayers(1).withPageFormat(PageFormat.F32);
        PagedKvCache cache = new PagedKvCache(shape, config, new InMemoryPageStore(PageLayout.of(8), config.pageFormat()),
                new Projection(8, new SplittableRandom(2)));
        Map<String, int[]> seen = new HashMap<>();
        cache.observeAttendedPositions((layer, kvHead, position, positions, count) ->
                seen.put(layer + "/" + kvHead + "/" + position, java.util.Arrays.copyOf(positions, count)));
        float[][][] out = data.newOutputs(n);
        data.runBlocks(cache, 0, n, CHUNKS, out);
        int sink = config.sinkTokens();
        int p = 0;
        for (int c = 0; p < n; c++) {
            int end = Math.min(n, p + CHUNKS[c % CHUNKS.length]);
            for (int l = 1; l < shape.nLayers(); l++) {
                for (int h = 0; h < shape.nKvHeads(); h++) {
                    int[] lastRows = seen.get(l + "/" + h + "/" + (end - 1));
                    TreeSet<Integer> indexedOfBlock = indexed(lastRows, p, sink, cache, l);
                    for (int i = p; i < end; i++) {
                        int[] rows = seen.get(l + "/" + h + "/" + i);
                        String msg = policy + " layer=" + l + " kvHead=" + h + " position=" + i;
                        assertEquals(i, rows[rows.length - 1], msg + ": last row is the query's own");
                        assertEquals(indexedOfBlock, indexed(rows, p, sink, cache, l), msg + ": same pages in a block");
                        for (int x = p; x <= i; x++) {
                            assertTrue(java.util.Arrays.binarySearch(rows, x) >= 0, msg + ": misses block row " + x);
                        }
                        for (int x = 0; x < Math.min(sink, p); x++) {
                            assertTrue(java.util.Arrays.binarySearch(rows, x) >= 0, msg + ": misses sink row " + x);
                        }
                    }
                }
            }
            p = end;
        }
        // the budget binds: some block attends fewer rows than there are positions
        boolean sparse = false;
        for (int[] rows : seen.values()) {
            sparse |= rows.length < rows[rows.length - 1] + 1;
        }
        assertTrue(sparse, "budget 48 never bound; the test checks nothing about selection");
        assertOutputsMatchObservedRows(shape, data, out, seen, n);
    }

    /** Positions of {@code rows} in the index (after the sink, before the window and the block). */
    private static TreeSet<Integer> indexed(int[] rows, int blockStart, int sink, PagedKvCache cache, int layer) {
        int windowStart = sink + cache.ring.windowFirst(layer) * 16;
        TreeSet<Integer> s = new TreeSet<>();
        for (int x : rows) {
            if (x >= sink && x < Math.min(windowStart, blockStart)) {
                s.add(x);
            }
        }
        return s;
    }

    private static void assertOutputsMatchObservedRows(CacheShape shape, CacheDriver data, float[][][] out,
                                                       Map<String, int[]> seen, int n) {
        int hd = shape.headDim();
        int group = shape.groupSize();
        for (int l = 1; l < shape.nLayers(); l++) {
            for (int i = n - 40; i < n; i++) {
                for (int h = 0; h < shape.nKvHeads(); h++) {
                    int[] rows = seen.get(l + "/" + h + "/" + i);
                    float[][] kr = new float[rows.length][];
                    float[][] vr = new float[rows.length][];
                    int[] off = new int[rows.length];
                    List<Integer> check = new ArrayList<>();
                    for (int r = 0; r < rows.length; r++) {
                        kr[r] = data.k[l][rows[r]];
                        vr[r] = data.v[l][rows[r]];
                        off[r] = h * hd;
                        check.add(rows[r]);
                    }
                    float[] want = new float[group * hd];
                    dev.icecache.kvcache.HeadAttention.attendGroup(data.q[l][i], h * group * hd, group, kr, off, vr,
                            off, rows.length, hd, new float[group * rows.length], want, 0);
                    assertArrayEquals(want, java.util.Arrays.copyOfRange(out[l][i], h * group * hd,
                            (h + 1) * group * hd), "layer=" + l + " position=" + i + " kvHead=" + h);
                }
            }
        }
    }
}
