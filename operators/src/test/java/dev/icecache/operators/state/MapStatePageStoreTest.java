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
