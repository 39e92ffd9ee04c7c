package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link ChildIndex#scanRange} against the search's walk written out step by step, each side's
 * bound recomputed at every step (the form the search had before the range was planned once):
 * the same leaves for every cell of a grown tree, at projections inside, between and beyond its
 * leaves, and scan shares from one row to the whole cell.
 */
class ScanRangeTest {

    /** The walk as it was: from findLeaf outward, bounds recomputed at every comparison. */
    private static int[] walk(ChildIndex cell, double p, int want, LeafPages pages) {
        int left = cell.findLeaf(p);
        int right = left + 1;
        int lo = left;
        int hi = left;
        int scored = pages.rowCount(cell.leaf(left));
        left--;
        while (scored < want) {
            boolean takeLeft;
            if (left < 0) {
                takeLeft = false;
            } else if (right >= cell.leafCount()) {
                takeLeft = true;
            } else {
                takeLeft = p - cell.leafMax(left) <= cell.leafMin(right) - p;
            }
            if (takeLeft) {
                lo = left;
                scored += pages.rowCount(cell.leaf(left--));
            } else {
                hi = right;
                scored += pages.rowCount(cell.leaf(right++));
            }
        }
        return new int[] {lo, hi};
    }

    @Test
    void shouldCoverTheLeavesOfTheStepByStepWalk() {
        SplittableRandom rnd = new SplittableRandom(11);
        int n = 12_000;
        int d = 16;
        float[] keys = TreeKeys.clustered(n, d, rnd);
        DciTree tree = new DciTree(d, DciParams.defaults(), new Projection(d, rnd.split()));
        int[] tokens = TreeKeys.positions(n, 4);
        for (int i = 0; i < n; i += 256) {
            tree.add(keys, i * d, tokens, i, Math.min(256, n - i));
        }
        LeafPages pages = tree.core.pages;
        int checked = 0;
        for (int c = -1; c < tree.cellCount(); c++) {
            ChildIndex cell = c < 0 ? tree.root : tree.cellAt(c);
            if (cell.leafCount() == 0) {
                continue;
            }
            double min = cell.leafMin(0);
            double max = cell.leafMax(cell.leafCount() - 1);
            double span = Math.max(max - min, 1e-9);
            for (int k = 0; k < 12; k++) {
                double p = min - 0.2 * span + 1.4 * span * rnd.nextDouble();
                if (k == 0) {
                    p = cell.leafMin(rnd.nextInt(cell.leafCount())); // exactly on a leaf's bound
                }
                int want = 1 + rnd.nextInt(cell.childCount());
                int[] expected = walk(cell, p, want, pages);
                long range = cell.scanRange(p, want);
                assertEquals(expected[0], ChildIndex.rangeLo(range), "first leaf, cell " + c + " p=" + p);
                assertEquals(expected[1], ChildIndex.rangeHi(range), "last leaf, cell " + c + " p=" + p);
                checked++;
            }
        }
        assertTrue(checked > 100, "cells checked: " + checked / 12);
    }
}
