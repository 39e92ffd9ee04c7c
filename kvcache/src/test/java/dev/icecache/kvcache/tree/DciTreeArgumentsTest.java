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
    void shouldCopyStoredKeys() {
        DciTree tree = tree();
        float[] keys = {1, 2, 3, 4, 5, 6, 7, 8};
        tree.add(keys, 0, new int[] {10, 11}, 0, 2);
        float[] dst = new float[D + 1];
        tree.key(11, dst, 1);
        assertEquals(5f, dst[1]);
        assertEquals(8f, dst[4]);
    }
}
