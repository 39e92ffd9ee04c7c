package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DciTreeArgumentsTest {

    private static final int D = 4;

    private static DciTree tree() {
        return new DciTree(D, DciParams.defaults(), new Projection(D, new SplittableRandom(1)));
    }

    @Test
    void shouldRejectTokensOutOfOrder() {
        DciTree tree = tree();
        tree.add(new float[2 * D], 0, new int[] {5, 6}, 0, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tree.add(new float[D], 0, new int[] {6}, 0, 1));
        assertTrue(e.getMessage().contains("token=6"), e.getMessage());
    }

    @Test
    void shouldRejectNonFiniteKeys() {
        float[] keys = new float[D];
        keys[2] = Float.NaN;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tree().add(keys, 0, new int[] {0}, 0, 1));
        assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
    }

    @Test
    void shouldRejectKeyRangeBeyondArray() {
        assertThrows(IndexOutOfBoundsException.class, () -> tree().add(new float[D], 0, new int[] {0, 1}, 0, 2));
    }

    @Test
    void shouldRejectProjectionOfAnotherSize() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DciTree(D, DciParams.defaults(), new Projection(D + 1, new SplittableRandom(1))));
        assertTrue(e.getMessage().contains("headDim"), e.getMessage());
    }

    @Test
    void shouldAnswerNoPageForUnknownTokens() {
        DciTree tree = tree();
        tree.add(new float[] {1, 0, 0, 0}, 0, new int[] {3}, 0, 1);
        assertEquals(DciTree.NO_PAGE, tree.pageOf(2));
        assertEquals(0, tree.slotOf(3));
        assertThrows(IllegalArgumentException.class, () -> tree.slotOf(4));
    }

    @Test
    void shouldReturnNothingWhenEmpty() {
        assertEquals(0, tree().search(new float[D], 0, 4, new int[4], new float[4], null));
    }

    @Test
    void shouldCopyStoredCompactKeys() {
        DciTree tree = tree();
        float[] keys = {1, 2, 3, 4, 5, 6, 7, 8};
        tree.add(keys, 0, new int[] {10, 11}, 0, 2);
        float[] dst = new float[D + 1];
        tree.key(11, dst, 1);
        // row (5, 6, 7, 8): scale 8/127, codes round(k / scale) = (79, 95, 111, 127)
        float scale = 8f / 127;
        assertEquals(79 * scale, dst[1]);
        assertEquals(95 * scale, dst[2]);
        assertEquals(111 * scale, dst[3]);
        assertEquals(127 * scale, dst[4]);
    }

    @Test
    void shouldFindTokensWithGapsAfterAContiguousStart() {
        DciTree tree = tree();
        float[] keys = new float[6 * D];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = (i * 7 % 11) - 5;
        }
        tree.add(keys, 0, new int[] {3, 4, 5}, 0, 3);       // contiguous: no token table
        tree.add(keys, 3 * D, new int[] {9, 10, 40}, 0, 3); // a gap: the table appears
        for (int t : new int[] {3, 4, 5, 9, 10, 40}) {
            assertTrue(tree.pageOf(t) != DciTree.NO_PAGE, "token " + t);
        }
        for (int t : new int[] {2, 6, 8, 11, 39, 41}) {
            assertEquals(DciTree.NO_PAGE, tree.pageOf(t), "token " + t);
        }
        java.util.Set<Integer> seen = new java.util.TreeSet<>();
        int[] rows = new int[tree.pageCapacity()];
        for (int p = 0; p < tree.pageIdLimit(); p++) {
            int n = tree.pageTokens(p, rows);
            for (int i = 0; i < n; i++) {
                seen.add(rows[i]);
            }
        }
        assertEquals(java.util.Set.of(3, 4, 5, 9, 10, 40), seen);
        tree.checkInvariants();
    }
}
