package dev.icecache.kvcache.select;

import static dev.icecache.kvcache.select.SelectorFixture.gaussian;
import static dev.icecache.kvcache.select.SelectorFixture.positions;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.kvcache.tree.DciTree;
import dev.icecache.kvcache.tree.PageScore;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * IceCache's recent positional pages ({@link RecentPages}) through {@link IceCacheSelector}: the
 * move log, replayed on a simulated store the way PagedKvCache applies it, must reproduce every
 * page's rows; the recent pages hold the newest tokens; a snapshot restores the same selector.
 */
class RecentPagesTest {

    private static final int D = 8;
    private static final CacheShape SHAPE = new CacheShape(1, 2, 1, D, 1 << 16);

    /** A page store that only records which token each (page, slot) holds. */
    private static final class SimulatedStore {
        final Map<Integer, int[]> pages = new HashMap<>();

        /** Applies one drained batch: every source is read (and checked) before anything is written. */
        void apply(IceCacheSelector sel) {
            int m = sel.pendingMoves(0, 0);
            int[] token = new int[m];
            int[] fromPage = new int[m];
            int[] fromSlot = new int[m];
            int[] toPage = new int[m];
            int[] toSlot = new int[m];
            sel.drainMoves(0, 0, token, fromPage, fromSlot, toPage, toSlot);
            assertEquals(m, Arrays.stream(token).distinct().count(), "one move per token");
            for (int i = 0; i < m; i++) {
                if (fromPage[i] != DciTree.NO_PAGE) {
                    int[] rows = pages.get(fromPage[i]);
                    assertTrue(rows != null && rows[fromSlot[i]] == token[i], "token=" + token[i] + " is not stored at ("
                            + fromPage[i] + ", " + fromSlot[i] + ")");
                }
            }
            Map<Integer, int[]> next = new HashMap<>();
            pages.forEach((id, rows) -> next.put(id, rows.clone()));
            for (int i = 0; i < m; i++) {
                next.computeIfAbsent(toPage[i], id -> new int[16])[toSlot[i]] = token[i];
            }
            pages.clear();
            pages.putAll(next);
        }

        void assertHolds(IceCacheSelector sel) {
            int[] rows = new int[16];
            for (int p = 0; p < sel.pageIdLimit(0, 0); p++) {
                int n = sel.pageSize(0, 0, p);
                if (n > 0) {
                    sel.pageTokens(0, 0, p, rows);
                    assertArrayEquals(Arrays.copyOf(rows, n), Arrays.copyOf(pages.get(p), n), "page=" + p);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} recent pages, seed {1}")
    @CsvSource({"1, 1", "2, 2", "3, 3", "6, 4"})
    void shouldKeepTheStoreAndTheNewestTokensConsistentUnderEveryBatchShape(int recent, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        IceCacheSelector sel = new IceCacheSelector(SelectorFixture.spec(SHAPE, 0,
                DciParams.defaults().withRecentPages(recent), 0));
        int n = 16 * 120;
        float[] keys = gaussian(n * D, rnd);
        int[] tok = positions(n);
        SimulatedStore store = new SimulatedStore();
        int added = 0;
        while (added < n) {
            // a prefill-sized batch, pages as the window evicts them, and odd sizes
            int size = Math.min(n - added, switch (rnd.nextInt(4)) {
                case 0 -> 1 + rnd.nextInt(100);
                case 1 -> 1 + rnd.nextInt(20);
                default -> 16;
            });
            sel.add(0, 0, keys, added * D, tok, added, size);
            added += size;
            store.apply(sel);
            store.assertHolds(sel);
            assertRecentPagesHoldTheNewestTokens(sel, recent, added);
        }
    }

    private static void assertRecentPagesHoldTheNewestTokens(IceCacheSelector sel, int recent, int added) {
        int off = sel.treePageOffset(0, 0);
        assertEquals(recent + 1, off);
        int held = 0;
        int partial = 0;
        int[] rows = new int[16];
        int newestTree = -1;
        for (int p = off; p < sel.pageIdLimit(0, 0); p++) {
            int c = sel.pageTokens(0, 0, p, rows);
            for (int s = 0; s < c; s++) {
                newestTree = Math.max(newestTree, rows[s]);
            }
        }
        int oldestRecent = Integer.MAX_VALUE;
        int pages = 0;
        for (int p = 0; p < off; p++) {
            int c = sel.pageSize(0, 0, p);
            if (c > 0) {
                pages++;
                held += c;
                partial += c < 16 ? 1 : 0;
                sel.pageTokens(0, 0, p, rows);
                oldestRecent = Math.min(oldestRecent, rows[0]);
            }
        }
        assertTrue(pages <= recent && partial <= 1, "pages=" + pages + " partial=" + partial);
        assertTrue(newestTree < oldestRecent, "tree token " + newestTree + " is newer than recent " + oldestRecent);
        // the recent pages hold the tail of the tokens cut into pages of 16 from the first token
        int expected = added <= 16 * recent ? added : 16 * (recent - 1) + ((added - 1) % 16 + 1);
        assertEquals(expected, held);
    }

    @ParameterizedTest(name = "{0} recent pages")
    @CsvSource({"1", "2", "5"})
    void shouldRestoreTheSameSelectorFromItsCells(int recent) {
        SplittableRandom rnd = new SplittableRandom(40 + recent);
        DciParams params = DciParams.defaults().withRecentPages(recent).withPageScore(PageScore.ATTENTION_MASS);
        IceCacheSelector sel = new IceCacheSelector(SelectorFixture.spec(SHAPE, 0, params, 0));
        Map<Integer, byte[]> cells = new HashMap<>();
        int n = 16 * 50 + 7;
        float[] keys = gaussian(n * D, rnd);
        int[] tok = positions(n);
        for (int added = 0; added < n; ) {
            int size = Math.min(n - added, 16);
            sel.add(0, 0, keys, added * D, tok, added, size);
            added += size;
            int[] ids = new int[sel.dirtyCellCount(0, 0)];
            int c = sel.drainDirtyCells(0, 0, ids);
            for (int i = 0; i < c; i++) {
                cells.put(ids[i], sel.cellBytes(0, 0, ids[i]));
            }
        }
        assertTrue(cells.containsKey(RecentPages.CELL));
        IceCacheSelector back = new IceCacheSelector(SelectorFixture.spec(SHAPE, 0, params, 0));
        back.restore(0, 0, cells::get);
        assertEquals(sel.pageIdLimit(0, 0), back.pageIdLimit(0, 0));
        int[] a = new int[16];
        int[] b = new int[16];
        for (int p = 0; p < sel.pageIdLimit(0, 0); p++) {
            assertEquals(sel.pageTokens(0, 0, p, a), back.pageTokens(0, 0, p, b));
            assertArrayEquals(a, b, "page=" + p);
        }
        for (int trial = 0; trial < 10; trial++) {
            float[] q = gaussian(2 * D, rnd);
            int[] x = new int[6];
            int[] y = new int[6];
            int cx = sel.select(0, 0, 9999, q, 0, 2, 6, x);
            assertEquals(cx, back.select(0, 0, 9999, q, 0, 2, 6, y));
            assertArrayEquals(x, y);
        }
        // a cache with other settings must refuse the snapshot, not misread its page ids
        IceCacheSelector otherSize = new IceCacheSelector(SelectorFixture.spec(SHAPE, 0, params.withRecentPages(recent + 1), 0));
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> otherSize.restore(0, 0, cells::get));
        assertTrue(size.getMessage().contains("written with " + recent + " recent pages"), size.getMessage());
        IceCacheSelector none = new IceCacheSelector(SelectorFixture.spec(SHAPE, 0, params.withRecentPages(0), 0));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> none.restore(0, 0, cells::get));
        assertTrue(missing.getMessage().contains("holds recent pages but this cache has none"), missing.getMessage());
        IllegalArgumentException old = assertThrows(IllegalArgumentException.class, () -> otherSize.restore(0, 0,
                id -> id == RecentPages.CELL ? null : cells.get(id)));
        assertTrue(old.getMessage().contains("written without recent pages"), old.getMessage());
        byte[] ring = cells.get(RecentPages.CELL).clone();
        ring[ring.length - 1 - 4 * D] ^= 0x7f; // corrupt a token
        cells.put(RecentPages.CELL, Arrays.copyOf(ring, ring.length - 3));
        IceCacheSelector broken = new IceCacheSelector(SelectorFixture.spec(SHAPE, 0, params, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> broken.restore(0, 0, cells::get));
        assertTrue(e.getMessage().contains("recent-pages snapshot"), e.getMessage());
    }
}
