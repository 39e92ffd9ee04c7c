package dev.icecache.gpu.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.icecache.kvcache.attention.SparseAttention;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PagePool;

/**
 * The causal prefill kernel, emulated over its whole grid, attends each query of a block to what the
 * CPU SparseAttention attends for that query alone: the retrieved pages (all older than the block)
 * and the rows of positional pages at or before the query's position.
 */
class PrefillAttentionLaunchTest {

    @Test
    void shouldMatchSparseAttentionPerQueryPositionWhenEmulated() {
        for (long seed = 1; seed <= 25; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int headDim = 2 * (1 + rnd.nextInt(16));
            int nKv = 1 + rnd.nextInt(3);
            int group = 1 + rnd.nextInt(4);
            int rowsPerPage = 1 + rnd.nextInt(16);
            PageLayout layout = new PageLayout(rowsPerPage, headDim);
            PagePool pool = new PagePool(layout, 64);
            float[] data = pool.data();
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) rnd.nextDouble(-2, 2);
            }
            int retrieved = rnd.nextInt(4);
            int positional = 1 + rnd.nextInt(4);
            AttentionLaunch attention = new AttentionLaunch(nKv * group, nKv, layout, retrieved + positional);
            int queries = 1 + rnd.nextInt(3 * rowsPerPage);
            PrefillAttentionLaunch launch = new PrefillAttentionLaunch(attention, queries);
            PageTable table = new PageTable(attention);
            // positional pages: consecutive positions from `start`; the block's queries are the last
            // `queries` positions they hold (so every query sees at least one row)
            int start = 1000 + rnd.nextInt(100);
            int positionalRows = (positional - 1) * rowsPerPage + 1 + rnd.nextInt(rowsPerPage);
            int lastPosition = start + positionalRows - 1;
            int p0 = Math.max(start, lastPosition - queries + 1);
            queries = lastPosition - p0 + 1;
            launch = new PrefillAttentionLaunch(attention, queries);

            int nextSlot = 0;
            int[][][] positions = new int[nKv][retrieved + positional][];
            int[][] slots = new int[nKv][retrieved + positional];
            int[][] valid = new int[nKv][retrieved + positional];
            for (int h = 0; h < nKv; h++) {
                BitSet used = new BitSet(start);
                int e = 0;
                for (int i = 0; i < retrieved; i++, e++) {
                    slots[h][e] = nextSlot++;
                    valid[h][e] = 1 + rnd.nextInt(rowsPerPage);
                    positions[h][e] = new int[valid[h][e]];
                    for (int r = 0; r < valid[h][e]; r++) {
                        int pos;
                        do {
                            pos = rnd.nextInt(start);  // semantic page: any distinct older positions
                        } while (used.get(pos));
                        used.set(pos);
                        positions[h][e][r] = pos;
                    }
                    table.add(h, slots[h][e], valid[h][e]);
                }
                for (int i = 0; i < positional; i++, e++) {
                    slots[h][e] = nextSlot++;
                    int first = start + i * rowsPerPage;
                    valid[h][e] = Math.min(rowsPerPage, positionalRows - i * rowsPerPage);
                    positions[h][e] = new int[valid[h][e]];
                    for (int r = 0; r < valid[h][e]; r++) {
                        positions[h][e][r] = first + r;
                    }
                    table.add(h, slots[h][e], valid[h][e], first);
                }
            }
            float[] q = new float[queries * nKv * group * headDim];
            for (int i = 0; i < q.length; i++) {
                q[i] = (float) rnd.nextDouble(-1, 1);
            }
            float[] expected = new float[q.length];
            for (int t = 0; t < queries; t++) {
                for (int h = 0; h < nKv; h++) {
                    SparseAttention cpu = new SparseAttention(headDim);
                    for (int e = 0; e < retrieved + positional; e++) {
                        cpu.addPage(layout, data, pool.offset(slots[h][e]), positions[h][e], valid[h][e], p0 + t);
                    }
                    for (int g = 0; g < group; g++) {
                        int row = (int) launch.rowIndex(t, h * group + g);
                        cpu.attend(q, row, expected, row);
                    }
                }
            }
            float[] got = new float[q.length];
            KernelEmulator.prefillAttention(launch, table, data, q, p0, got);
            for (int i = 0; i < q.length; i++) {
                assertEquals(expected[i], got[i], 1e-5f, "seed=" + seed + " float " + i);
            }
        }
    }

    @Test
    void shouldSeeRetrievedRowsAlwaysAndPositionalRowsUpToTheQuery() {
        AttentionLaunch attention = new AttentionLaunch(2, 1, new PageLayout(4, 8), 3);
        PageTable table = new PageTable(attention);
        table.add(0, 5, 3);          // retrieved: every valid row, whatever the query
        table.add(0, 6, 4, 40);      // positions 40..43
        assertTrue(PrefillAttentionLaunch.sees(table, 0, 0, 2, 0));
        assertFalse(PrefillAttentionLaunch.sees(table, 0, 0, 3, 1000), "row 3 is past the valid rows");
        assertTrue(PrefillAttentionLaunch.sees(table, 0, 1, 1, 41));
        assertFalse(PrefillAttentionLaunch.sees(table, 0, 1, 2, 41), "position 42 is after the query's 41");
        assertEquals(-1, table.first(0, 0));
        assertEquals(40, table.first(0, 1));
        table.clear();
        assertEquals(0, table.count(0));
    }

    @Test
    void shouldLayOutTheGridAndRejectBadBlocks() {
        AttentionLaunch attention = new AttentionLaunch(32, 8, new PageLayout(16, 64), 16);
        PrefillAttentionLaunch launch = new PrefillAttentionLaunch(attention, 512);
        assertEquals(32, launch.dims().gridX());
        assertEquals(512, launch.dims().gridY());
        assertEquals((3L * 32 + 5) * 64, launch.rowIndex(3, 5));
        assertEquals(512L * 32 * 16 * 16, launch.scratchFloats());
        assertThrows(IllegalArgumentException.class, () -> new PrefillAttentionLaunch(attention, 0));
        assertThrows(IllegalArgumentException.class, () -> new PrefillAttentionLaunch(attention, 65536));
        assertThrows(IllegalArgumentException.class, () -> new PageTable(attention).add(0, 1, 1, -2));
    }
}
