package dev.icecache.gpu.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.icecache.kvcache.attention.SparseAttention;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PagePool;

/** The paged attention kernel addresses the same floats, and weighs them the same, as the CPU SparseAttention. */
class AttentionLaunchTest {

    @Test
    void shouldMatchSparseAttentionOverTheSamePoolSlotsWhenEmulated() {
        for (long seed = 1; seed <= 20; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int headDim = 2 * (1 + rnd.nextInt(20));
            int nKv = 1 + rnd.nextInt(3);
            int group = 1 + rnd.nextInt(4);
            PageLayout layout = new PageLayout(1 + rnd.nextInt(16), headDim);
            int capacity = 40;
            PagePool pool = new PagePool(layout, capacity);
            float[] data = pool.data();
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) rnd.nextDouble(-2, 2);
            }
            int maxPages = 1 + rnd.nextInt(6);
            AttentionLaunch launch = new AttentionLaunch(nKv * group, nKv, layout, maxPages);
            PageTable table = new PageTable(launch);
            float[] q = new float[nKv * group * headDim];
            for (int i = 0; i < q.length; i++) {
                q[i] = (float) rnd.nextDouble(-1, 1);
            }
            float[] expected = new float[q.length];
            int[] slotsShuffled = shuffledSlots(capacity, rnd);
            int next = 0;
            for (int h = 0; h < nKv; h++) {
                SparseAttention cpu = new SparseAttention(headDim);
                int pages = 1 + rnd.nextInt(maxPages);
                int position = 0;
                for (int e = 0; e < pages; e++) {
                    int slot = slotsShuffled[next++];
                    int valid = 1 + rnd.nextInt(layout.rowsPerPage());
                    table.add(h, slot, valid);
                    int[] positions = new int[valid];
                    for (int r = 0; r < valid; r++) {
                        positions[r] = position++;
                    }
                    cpu.addPage(layout, data, pool.offset(slot), positions, valid, Integer.MAX_VALUE);
                }
                for (int g = 0; g < group; g++) {
                    int qh = h * group + g;
                    cpu.attend(q, qh * headDim, expected, qh * headDim);
                }
            }
            float[] got = new float[q.length];
            KernelEmulator.attention(launch, table, data, q, got);
            for (int i = 0; i < q.length; i++) {
                assertEquals(expected[i], got[i], 1e-5f, "seed=" + seed + " float " + i);
            }
        }
    }

    private static int[] shuffledSlots(int capacity, SplittableRandom rnd) {
        int[] s = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            s[i] = i;
        }
        for (int i = capacity - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = s[i];
            s[i] = s[j];
            s[j] = t;
        }
        return s;
    }

    @Test
    void shouldAddressKeyAndValueRowsAsPageLayoutDoes() {
        PageLayout layout = new PageLayout(16, 64);
        AttentionLaunch launch = new AttentionLaunch(32, 8, layout, 16);
        PagePool pool = new PagePool(layout, 8);
        assertEquals(pool.offset(5) + layout.keyOffset(3), launch.keyIndex(5, 3));
        assertEquals(pool.offset(7) + layout.valueOffset(15), launch.valueIndex(7, 15));
        assertEquals(3, launch.kvHeadOf(13));    // 4 query heads per KV head
        assertEquals(32 * 16 * 16, launch.scratchFloats());
        assertEquals(32, launch.dims().gridX());
    }

    @Test
    void shouldRejectBadTables() {
        AttentionLaunch launch = new AttentionLaunch(4, 2, new PageLayout(16, 8), 2);
        PageTable table = new PageTable(launch);
        table.add(1, 3, 16);
        table.add(1, 4, 1);
        assertThrows(IllegalStateException.class, () -> table.add(1, 5, 2));
        assertThrows(IllegalArgumentException.class, () -> table.add(0, 1, 17));
        assertThrows(IllegalArgumentException.class, () -> table.add(2, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new AttentionLaunch(6, 4, new PageLayout(16, 8), 2));
        table.clear();
        assertEquals(0, table.count(1));
    }
}
