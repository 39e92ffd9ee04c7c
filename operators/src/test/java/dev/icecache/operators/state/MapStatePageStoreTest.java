package dev.icecache.operators.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PageStore;
import org.junit.jupiter.api.Test;

/** The PageStore contract (mirrored from kvcache's PageStoreContract) plus write-back at flush. */
class MapStatePageStoreTest {

    private static final PageLayout LAYOUT = new PageLayout(16, 8);

    @Test
    void shouldReadBackValidRowsAndZeroTheRestInBothFormats() {
        for (PageFormat format : PageFormat.values()) {
            MapStatePageStore store = new MapStatePageStore(new HeapMapState<>(), LAYOUT, format, 0);
            float[] src = randomBlock(new SplittableRandom(11));
            store.write(2, 1, 77, src, 0, 5);
            float[] dst = new float[LAYOUT.floatsPerPage() + 3];
            dst[0] = 42f;
            assertEquals(5, store.read(2, 1, 77, dst, 3));
            assertEquals(42f, dst[0]);
            assertArrayEquals(expected(format, src, 5), Arrays.copyOfRange(dst, 3, dst.length), "format " + format);
        }
    }

    @Test
    void shouldReturnAbsentAndLeaveDestinationUntouchedForMissingPage() {
        MapStatePageStore store = new MapStatePageStore(new HeapMapState<>(), LAYOUT, PageFormat.F32, 0);
        float[] dst = new float[LAYOUT.floatsPerPage()];
        Arrays.fill(dst, 3f);
        assertEquals(PageStore.ABSENT, store.read(0, 0, 1, dst, 0));
        for (float f : dst) {
            assertEquals(3f, f);
        }
    }

    @Test
    void shouldKeepLayersHeadsAndIdsApartAndCountPages() {
        SplittableRandom random = new SplittableRandom(5);
        MapStatePageStore store = new MapStatePageStore(new HeapMapState<>(), LAYOUT, PageFormat.F32, 0);
        int[][] keys = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 0, -1}, {65535, 65535, Integer.MIN_VALUE}};
        float[][] blocks = new float[keys.length][];
        for (int i = 0; i < keys.length; i++) {
            blocks[i] = randomBlock(random);
            store.write(keys[i][0], keys[i][1], keys[i][2], blocks[i], 0, 16);
        }
        assertEquals(keys.length, store.pageCount());
        float[] dst = new float[LAYOUT.floatsPerPage()];
        for (int i = 0; i < keys.length; i++) {
            assertEquals(16, store.read(keys[i][0], keys[i][1], keys[i][2], dst, 0));
            assertArrayEquals(blocks[i], dst, "key " + Arrays.toString(keys[i]));
        }
        store.write(0, 0, 0, blocks[1], 0, 3);
        assertEquals(keys.length, store.pageCount(), "rewriting a page does not add one");
        assertTrue(store.delete(1, 0, 0));
        assertFalse(store.delete(1, 0, 0));
        assertEquals(keys.length - 1, store.pageCount());
    }

    @Test
    void shouldReachMapStateOnlyAtFlushAndOncePerPage() {
        HeapMapState<Long, StoredPage> state = new HeapMapState<>();
        MapStatePageStore store = new MapStatePageStore(state, LAYOUT, PageFormat.F32, 0);
        float[] src = randomBlock(new SplittableRandom(3));
        for (int rows = 1; rows <= 16; rows++) {
            store.write(4, 3, 9, src, 0, rows);
        }
        store.write(4, 3, 10, src, 0, 2);
        store.delete(4, 3, 10);
        assertTrue(state.isEmpty(), "nothing before flush");
        store.flush();
        assertEquals(1, state.puts, "one put for a page rewritten 16 times");
        assertEquals(1, state.map.size());

        MapStatePageStore reopened = new MapStatePageStore(state, LAYOUT, PageFormat.F32, store.pageCount());
        float[] dst = new float[LAYOUT.floatsPerPage()];
        assertEquals(16, reopened.read(4, 3, 9, dst, 0));
        assertArrayEquals(src, dst);
        assertEquals(1, reopened.pageCount());
    }

    /**
     * A page whose rows change a few at a time is kept as its whole block plus one patch of the
     * rows changed since: a patch is put instead of the page while those rows are at most a
     * quarter of it; past that the page is put whole and the patch removed. Bytes written follow.
     */
    @Test
    void shouldKeepChangedRowsAsAPatchUntilAQuarterOfThePageChanged() {
        HeapMapState<Long, StoredPage> pages = new HeapMapState<>();
        HeapMapState<Long, PagePatch> patches = new HeapMapState<>();
        MapStatePageStore store = new MapStatePageStore(pages, patches, LAYOUT, PageFormat.BF16, 0);
        SplittableRandom rnd = new SplittableRandom(8);
        float[] block = randomBlock(rnd);
        store.writeRows(0, 1, 5, block, 0, 14, -1L); // a new page is stored whole
        store.flush();
        assertEquals(1, pages.puts);
        long whole = store.bytesWritten();

        float[] dst = new float[LAYOUT.floatsPerPage()];
        int[][] steps = {{3}, {3, 9}, {14}, {0}}; // rows changed by each write; 14 grows the page to 15
        int[] valid = {14, 14, 15, 15};
        for (int i = 0; i < steps.length; i++) {
            long changed = i == 2 ? -1L << 14 : 0;
            for (int r : steps[i]) {
                changed |= 1L << r;
                block[LAYOUT.keyOffset(r)] = (float) rnd.nextGaussian();
                block[LAYOUT.valueOffset(r) + 7] = (float) rnd.nextGaussian();
            }
            long before = store.bytesWritten();
            store.writeRows(0, 1, 5, block, 0, valid[i], changed);
            store.flush();
            assertEquals(valid[i], store.read(0, 1, 5, dst, 0));
            assertArrayEquals(expectedBf16(block, valid[i]), dst, "after write " + i);
            if (i < 3) { // rows {3}, {3, 9}, {3, 9, 14}: a patch each time
                assertEquals(1, pages.puts, "write " + i + " kept the page");
                assertEquals(i + 1, patches.puts);
                assertTrue(store.bytesWritten() - before < whole / 3, "write " + i + " put "
                        + (store.bytesWritten() - before) + " bytes, the page is " + whole);
            } else { // {0, 3, 9, 14} is still a quarter; one more row folds it
                assertEquals(1, pages.puts);
                assertEquals(4, patches.puts);
            }
        }
        block[LAYOUT.keyOffset(1)] = 5f;
        store.writeRows(0, 1, 5, block, 0, 15, 1L << 1);
        store.flush();
        assertEquals(2, pages.puts, "five changed rows: the page is written whole");
        assertTrue(patches.isEmpty(), "and its patch removed");

        // a restored store finds the patch and keeps adding to it
        block[LAYOUT.keyOffset(2)] = 6f;
        store.writeRows(0, 1, 5, block, 0, 15, 1L << 2);
        store.flush();
        MapStatePageStore restored = new MapStatePageStore(pages, patches, LAYOUT, PageFormat.BF16, 1);
        assertEquals(15, restored.read(0, 1, 5, dst, 0));
        assertArrayEquals(expectedBf16(block, 15), dst);
        block[LAYOUT.valueOffset(4)] = 7f;
        restored.writeRows(0, 1, 5, block, 0, 12, 1L << 4); // shrinks to 12 rows
        restored.flush();
        assertEquals(2, pages.puts);
        assertEquals(1 << 2 | 1 << 4, patches.get(dev.icecache.kvcache.page.PageKey.of(0, 1, 5)).slots());
        MapStatePageStore again = new MapStatePageStore(pages, patches, LAYOUT, PageFormat.BF16, 1);
        assertEquals(12, again.read(0, 1, 5, dst, 0));
        assertArrayEquals(expectedBf16(block, 12), dst);
        assertTrue(again.delete(0, 1, 5));
        again.flush();
        assertTrue(pages.isEmpty() && patches.isEmpty(), "a deleted page leaves no patch behind");
    }

    private static float[] expectedBf16(float[] block, int valid) {
        float[] e = new float[LAYOUT.floatsPerPage()];
        for (int r = 0; r < valid; r++) {
            for (int d = 0; d < LAYOUT.headDim(); d++) {
                e[LAYOUT.keyOffset(r) + d] = PageFormat.BF16.roundTrip(block[LAYOUT.keyOffset(r) + d]);
                e[LAYOUT.valueOffset(r) + d] = PageFormat.BF16.roundTrip(block[LAYOUT.valueOffset(r) + d]);
            }
        }
        return e;
    }

    /**
     * The pages held for the element's end are bounded: past the bound a write goes straight to
     * the map state while the held pages stay held, and nothing is lost.
     */
    @Test
    void shouldWriteThroughPastThePendingBound() {
        assertWritesThroughPast(-1, MapStatePageStore.MIN_PENDING_BYTES);
    }

    /** Deleting a held page frees its bytes under the bound: the next new page is held, not written through. */
    @Test
    void shouldFreeTheBoundWhenAHeldPageIsDeleted() {
        HeapMapState<Long, StoredPage> state = new HeapMapState<>();
        MapStatePageStore store = new MapStatePageStore(state, new HeapMapState<>(), LAYOUT, PageFormat.F32, 0);
        long pageHeap = 64 + 4L * 2 * 16 * LAYOUT.headDim();
        store.holdAtMost(2 * pageHeap + 64); // two pages, or one and a deletion marker and one
        float[] src = randomBlock(new SplittableRandom(8));
        store.write(0, 0, 0, src, 0, 16);
        store.write(0, 0, 1, src, 0, 16);
        assertTrue(store.delete(0, 0, 0));
        store.write(0, 0, 2, src, 0, 16);
        assertTrue(state.isEmpty(), "the deleted page's bytes made room for the next page");
        store.write(0, 0, 3, src, 0, 16);
        assertEquals(1, state.puts, "a page past the bound goes straight to the map state");
        assertEquals(1, store.writtenThrough());
        store.flush();
        assertEquals(3, store.pageCount());
        assertFalse(state.contains(dev.icecache.kvcache.page.PageKey.of(0, 0, 0)));
    }

    /** The decoder's limit (the budget's room) raises the bound; a limit below the least bound gives the least. */
    @Test
    void shouldHoldPagesUpToTheLimitGiven() {
        assertWritesThroughPast(3 * MapStatePageStore.MIN_PENDING_BYTES, 3 * MapStatePageStore.MIN_PENDING_BYTES);
        assertWritesThroughPast(1024, MapStatePageStore.MIN_PENDING_BYTES);
        assertWritesThroughPast(-5, MapStatePageStore.MIN_PENDING_BYTES);
    }

    /**
     * Writes whole F32 pages under {@code limit} (none when -1): they are held up to {@code bound};
     * the next new page goes through, a held page rewritten stays held, and every page reads back.
     */
    private static void assertWritesThroughPast(long limit, long bound) {
        HeapMapState<Long, StoredPage> state = new HeapMapState<>();
        MapStatePageStore store = new MapStatePageStore(state, new HeapMapState<>(), LAYOUT, PageFormat.F32, 0);
        if (limit != -1) {
            store.limitPendingBytes(limit);
        }
        assertEquals(bound, store.pendingLimit());
        SplittableRandom random = new SplittableRandom(4);
        float[] src = randomBlock(random);
        long pageHeap = 64 + 4L * 2 * 16 * LAYOUT.headDim();
        int pagesToBound = (int) (bound / pageHeap);
        for (int i = 0; i < pagesToBound; i++) {
            store.write(0, 0, i, src, 0, 16);
        }
        assertTrue(state.isEmpty(), "within the bound every page waits for the flush");
        store.write(0, 0, pagesToBound, src, 0, 16);
        assertEquals(1, state.puts, "past the bound a new page goes straight to the map state");
        assertEquals(pagesToBound, store.pendingCount(), "the held pages stay held");
        assertEquals(1, store.writtenThrough());
        float[] other = randomBlock(random);
        store.write(0, 0, 0, other, 0, 16);
        assertEquals(1, state.puts, "a held page rewritten stays held");
        assertEquals(1, store.writtenThrough());
        float[] dst = new float[LAYOUT.floatsPerPage()];
        assertEquals(16, store.read(0, 0, pagesToBound, dst, 0));
        assertArrayEquals(src, dst);
        store.flush();
        assertEquals(pagesToBound + 1, state.puts);
        assertEquals(16, store.read(0, 0, 0, dst, 0));
        assertArrayEquals(other, dst);
        assertEquals(16, store.read(0, 0, pagesToBound / 2, dst, 0));
        assertArrayEquals(src, dst);
        assertEquals(pagesToBound + 1, store.pageCount());
    }

    @Test
    void shouldRejectValidRowsBeyondThePage() {
        MapStatePageStore store = new MapStatePageStore(new HeapMapState<>(), LAYOUT, PageFormat.F32, 0);
        assertThrows(IllegalArgumentException.class, () -> store.write(0, 0, 0, new float[LAYOUT.floatsPerPage()], 0, 17));
    }

    @Test
    void shouldRefuseUseAfterClose() {
        MapStatePageStore store = new MapStatePageStore(new HeapMapState<>(), LAYOUT, PageFormat.F32, 0);
        store.close();
        assertThrows(IllegalStateException.class, () -> store.read(0, 0, 0, new float[LAYOUT.floatsPerPage()], 0));
    }

    private static float[] randomBlock(SplittableRandom random) {
        float[] b = new float[LAYOUT.floatsPerPage()];
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) random.nextGaussian();
        }
        return b;
    }

    private static float[] expected(PageFormat format, float[] src, int validRows) {
        float[] e = new float[LAYOUT.floatsPerPage()];
        for (int r = 0; r < validRows; r++) {
            for (int d = 0; d < LAYOUT.headDim(); d++) {
                e[LAYOUT.keyOffset(r) + d] = format.roundTrip(src[LAYOUT.keyOffset(r) + d]);
                e[LAYOUT.valueOffset(r) + d] = format.roundTrip(src[LAYOUT.valueOffset(r) + d]);
            }
        }
        return e;
    }
}
