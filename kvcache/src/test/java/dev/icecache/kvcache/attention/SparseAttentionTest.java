package dev.icecache.kvcache.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.icecache.kvcache.page.PageLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SparseAttentionTest {

    @Test
    void shouldReduceRowsInPositionOrderWhateverTheOrderAdded() {
        int d = 8;
        for (long seed = 1; seed <= 30; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int n = 1 + rnd.nextInt(200);
            float[] k = new float[n * d];
            float[] v = new float[n * d];
            float[] q = new float[d];
            for (int i = 0; i < k.length; i++) {
                k[i] = (float) rnd.nextGaussian();
                v[i] = (float) rnd.nextGaussian();
            }
            for (int i = 0; i < d; i++) {
                q[i] = (float) rnd.nextGaussian() * 3;
            }
            // reference: HeadAttention over rows in position order
            float[] expected = BlockAttentionTest.reference(q, 0, k, v, n, d, 0, d);
            int[] perm = rnd.ints(0, n).distinct().limit(n).toArray();
            SparseAttention att = new SparseAttention(d);
            att.clear();
            for (int i : perm) {
                att.addRow(i, k, i * d, v, i * d);
            }
            float[] out = new float[d + 2];
            att.attend(q, 0, out, 2);
            assertArrayEquals(expected, java.util.Arrays.copyOfRange(out, 2, d + 2), "seed=" + seed);
            for (int i = 0; i < n; i++) {
                assertEquals(i, att.position(i), "seed=" + seed);
            }
        }
    }

    @Test
    void shouldTakeOnlyValidRowsUpToTheQueryPositionFromAPage() {
        PageLayout layout = new PageLayout(4, 2);
        float[] block = {1, 0, 0, 1, 9, 9, 9, 9, /* V */ 10, 10, 20, 20, 30, 40, 99, 99};
        SparseAttention att = new SparseAttention(2);
        att.clear();
        // rows 0 and 3 hold positions 7 and 6, past the query position 5: skipped
        att.addPage(layout, block, 0, new int[] {7, 3, 5, 6}, 4, 5);
        assertEquals(2, att.rows());
        float[] out = new float[2];
        att.attend(new float[] {0, 0}, 0, out, 0); // equal scores: the mean of the V rows of positions 3 and 5
        assertArrayEquals(new float[] {25f, 30f}, out, 1e-6f);
        assertEquals(3, att.position(0));
        assertEquals(5, att.position(1));
    }

    @Test
    void shouldRefuseToAttendOverNothing() {
        SparseAttention att = new SparseAttention(4);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> att.attend(new float[4], 0, new float[4], 0));
        assertEquals("attend over zero rows; add the query's own position first", e.getMessage());
    }
}
