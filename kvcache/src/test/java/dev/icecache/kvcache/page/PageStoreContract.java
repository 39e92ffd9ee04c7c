package dev.icecache.kvcache.page;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link PageStore} contract, for any implementation: a subclass supplies
 * {@link #newStore(PageLayout, PageFormat)} and inherits every check. The Flink RocksDB store
 * reuses it from the kvcache test-jar; the test methods are public so that subclasses in other
 * packages inherit them.
 */
public abstract class PageStoreContract {

    private PageStore store;

    /** A new, empty store of the given layout and format. */
    protected abstract PageStore newStore(PageLayout layout, PageFormat format);

    private PageStore open(PageLayout layout, PageFormat format) {
        if (store != null) {
            store.close();
        }
        store = newStore(layout, format);
        return store;
    }

    /**
     * The store as a restarted reader would see it: a store that holds writes until a flush
     * flushes them and opens a new instance over the same data. The default returns {@code s}.
     */
    protected PageStore reopen(PageStore s) {
        return s;
    }

    @AfterEach
    public void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    private static float[] randomBlock(PageLayout l, SplittableRandom rnd) {
        float[] b = new float[l.floatsPerPage()];
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) rnd.nextGaussian();
        }
        return b;
    }

    /** The block as a reader must see it: valid rows after rounding, every other row zero. */
    private static float[] expected(PageLayout l, PageFormat f, float[] src, int validRows) {
        float[] e = new float[l.floatsPerPage()];
        for (int r = 0; r < validRows; r++) {
            for (int d = 0; d < l.headDim(); d++) {
                e[l.keyOffset(r) + d] = f.roundTrip(src[l.keyOffset(r) + d]);
                e[l.valueOffset(r) + d] = f.roundTrip(src[l.valueOffset(r) + d]);
            }
        }
        return e;
    }

    @Test
    public void shouldReadBackWhatWasWrittenInBothFormats() {
        for (PageFormat f : PageFormat.values()) {
            PageLayout l = new PageLayout(16, 8);
            PageStore s = open(l, f);
            SplittableRandom rnd = new SplittableRandom(11);
            float[] src = randomBlock(l, rnd);
            s.write(2, 1, 77, src, 0, 5);
            float[] dst = new float[l.floatsPerPage() + 3];
            dst[0] = 42f;
            assertEquals(5, s.read(2, 1, 77, dst, 3));
            assertEquals(42f, dst[0]);
            float[] got = java.util.Arrays.copyOfRange(dst, 3, dst.length);
            assertArrayEquals(expected(l, f, src, 5), got, "format " + f);
        }
    }

    @Test
    public void shouldReturnAbsentAndLeaveDestinationUntouchedForMissingPage() {
        PageLayout l = new PageLayout(16, 4);
        PageStore s = open(l, PageFormat.F32);
        float[] dst = new float[l.floatsPerPage()];
        java.util.Arrays.fill(dst, 9f);
        assertEquals(PageStore.ABSENT, s.read(0, 0, 0, dst, 0));
        for (float v : dst) {
            assertEquals(9f, v);
        }
    }

    @Test
    public void shouldKeepKeysOfDifferentLayersHeadsAndIdsApart() {
        PageLayout l = new PageLayout(4, 2);
        PageStore s = open(l, PageFormat.F32);
        int[][] keys = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 0, -1}, {0, 0, Integer.MIN_VALUE},
                        {65535, 65535, Integer.MAX_VALUE}};
        for (int i = 0; i < keys.length; i++) {
            float[] b = new float[l.floatsPerPage()];
            java.util.Arrays.fill(b, i + 1);
            s.write(keys[i][0], keys[i][1], keys[i][2], b, 0, 4);
        }
        assertEquals(keys.length, s.pageCount());
        float[] dst = new float[l.floatsPerPage()];
        for (int i = 0; i < keys.length; i++) {
            assertEquals(4, s.read(keys[i][0], keys[i][1], keys[i][2], dst, 0));
            assertEquals(i + 1f, dst[0], "key " + java.util.Arrays.toString(keys[i]));
        }
    }

    @Test
    public void shouldReplaceAndDeletePages() {
        PageLayout l = new PageLayout(16, 8);
        PageStore s = open(l, PageFormat.F32);
        SplittableRandom rnd = new SplittableRandom(3);
        float[] a = randomBlock(l, rnd);
        float[] b = randomBlock(l, rnd);
        s.write(0, 0, 5, a, 0, 16);
        s.write(0, 0, 5, b, 0, 2);
        float[] dst = new float[l.floatsPerPage()];
        assertEquals(2, s.read(0, 0, 5, dst, 0));
        assertArrayEquals(expected(l, PageFormat.F32, b, 2), dst);
        assertTrue(s.delete(0, 0, 5));
        assertFalse(s.delete(0, 0, 5));
        assertEquals(PageStore.ABSENT, s.read(0, 0, 5, dst, 0));
        assertEquals(0, s.pageCount());
    }

    @Test
    public void shouldStoreAnEmptyPage() {
        PageLayout l = new PageLayout(16, 8);
        PageStore s = open(l, PageFormat.BF16);
        float[] src = randomBlock(l, new SplittableRandom(5));
        s.write(3, 0, 0, src, 0, 0);
        float[] dst = randomBlock(l, new SplittableRandom(6));
        assertEquals(0, s.read(3, 0, 0, dst, 0));
        assertArrayEquals(new float[l.floatsPerPage()], dst);
    }

    @Test
    public void shouldKeepEdgeValuesBitExactInF32AndRoundedInBf16() {
        float[] edges = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f, 0.0f,
                         Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, 1f + 0x1p-8f, 65504f};
        PageLayout l = new PageLayout(1, edges.length);
        for (PageFormat f : PageFormat.values()) {
            PageStore s = open(l, f);
            float[] src = new float[l.floatsPerPage()];
            System.arraycopy(edges, 0, src, 0, edges.length);
            System.arraycopy(edges, 0, src, edges.length, edges.length);
            s.write(0, 0, 0, src, 0, 1);
            float[] dst = new float[src.length];
            s.read(0, 0, 0, dst, 0);
            for (int i = 0; i < src.length; i++) {
                float want = f.roundTrip(src[i]);
                if (Float.isNaN(want)) {
                    assertTrue(Float.isNaN(dst[i]), f + " index " + i);
                } else {
                    assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(dst[i]), f + " index " + i);
                }
            }
        }
    }

    @Test
    public void shouldMatchAMapModelUnderRandomOperations() {
        long seed = 99;
        PageLayout l = new PageLayout(4, 3);
        PageStore s = open(l, PageFormat.F32);
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<Long, float[]> model = new HashMap<>();
        Map<Long, Integer> rows = new HashMap<>();
        float[] dst = new float[l.floatsPerPage()];
        for (int op = 0; op < 3000; op++) {
            int layer = rnd.nextInt(3);
            int head = rnd.nextInt(2);
            int id = rnd.nextInt(-5, 60);
            long key = PageKey.of(layer, head, id);
            int kind = rnd.nextInt(4);
            if (kind == 0) {
                assertEquals(model.remove(key) != null, s.delete(layer, head, id), "seed=" + seed + " op=" + op);
                rows.remove(key);
            } else if (kind == 1) {
                int got = s.read(layer, head, id, dst, 0);
                if (model.containsKey(key)) {
                    assertEquals(rows.get(key), got, "seed=" + seed + " op=" + op);
                    assertArrayEquals(expected(l, PageFormat.F32, model.get(key), got), dst, "seed=" + seed);
                } else {
                    assertEquals(PageStore.ABSENT, got, "seed=" + seed + " op=" + op);
                }
            } else {
                float[] b = randomBlock(l, rnd);
                int valid = rnd.nextInt(l.rowsPerPage() + 1);
                s.write(layer, head, id, b, 0, valid);
                model.put(key, b);
                rows.put(key, valid);
            }
            assertEquals(model.size(), s.pageCount(), "seed=" + seed + " op=" + op);
        }
    }

    /**
     * Pages rewritten with {@link PageStore#writeRows} (a few rows changed, the valid count grown
     * or shrunk, as the tree's moves do) read back exactly as if each had been written whole, in
     * both formats, across reopenings of the store.
     */
    @Test
    public void shouldReadBackPagesRewrittenByRowsAsIfWrittenWhole() {
        for (PageFormat f : PageFormat.values()) {
            PageLayout l = new PageLayout(16, 4);
            store = open(l, f);
            SplittableRandom rnd = new SplittableRandom(23);
            Map<Integer, float[]> model = new HashMap<>();
            Map<Integer, Integer> rows = new HashMap<>();
            float[] dst = new float[l.floatsPerPage()];
            for (int op = 0; op < 3000; op++) {
                int id = rnd.nextInt(12);
                int kind = rnd.nextInt(20);
                if (kind == 0) {
                    store = reopen(store);
                } else if (kind == 1) {
                    assertEquals(model.remove(id) != null, store.delete(1, 0, id), "op=" + op);
                    rows.remove(id);
                } else if (kind < 8) {
                    int got = store.read(1, 0, id, dst, 0);
                    if (model.containsKey(id)) {
                        assertEquals(rows.get(id), got, f + " op=" + op);
                        assertArrayEquals(expected(l, f, model.get(id), got), dst, f + " op=" + op);
                    } else {
                        assertEquals(PageStore.ABSENT, got, f + " op=" + op);
                    }
                } else if (kind < 10) {
                    float[] b = randomBlock(l, rnd);
                    int valid = rnd.nextInt(l.rowsPerPage() + 1);
                    store.write(1, 0, id, b, 0, valid);
                    model.put(id, b);
                    rows.put(id, valid);
                } else {
                    int old = rows.getOrDefault(id, 0);
                    float[] b = model.containsKey(id) ? model.get(id).clone() : randomBlock(l, rnd);
                    int valid = Math.max(0, Math.min(l.rowsPerPage(), old + rnd.nextInt(6) - 2));
                    long changed = model.containsKey(id) ? -1L << old : -1L;
                    for (int n = rnd.nextInt(4); n > 0 && valid > 0; n--) {
                        int r = rnd.nextInt(valid);
                        changed |= 1L << r;
                        for (int d = 0; d < l.headDim(); d++) {
                            b[l.keyOffset(r) + d] = (float) rnd.nextGaussian();
                            b[l.valueOffset(r) + d] = (float) rnd.nextGaussian();
                        }
                    }
                    for (int r = old; r < l.rowsPerPage(); r++) { // rows past the old count are new
                        for (int d = 0; d < l.headDim(); d++) {
                            b[l.keyOffset(r) + d] = (float) rnd.nextGaussian();
                            b[l.valueOffset(r) + d] = (float) rnd.nextGaussian();
                        }
                    }
                    store.writeRows(1, 0, id, b, 0, valid, changed);
                    model.put(id, b);
                    rows.put(id, valid);
                }
                assertEquals(model.size(), store.pageCount(), f + " op=" + op);
            }
        }
    }

    @Test
    public void shouldRejectBadArgumentsWithClearMessages() {
        PageLayout l = new PageLayout(16, 8);
        PageStore s = open(l, PageFormat.F32);
        float[] b = new float[l.floatsPerPage()];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.write(0, 0, 0, b, 0, 17));
        assertEquals("validRows=17 must be in [0, rowsPerPage=16]", e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> s.write(0, 0, 0, b, 1, 16));
        assertThrows(IndexOutOfBoundsException.class, () -> s.read(0, 0, 0, new float[10], 0));
        assertThrows(IllegalArgumentException.class, () -> s.write(-1, 0, 0, b, 0, 1));
    }
}
