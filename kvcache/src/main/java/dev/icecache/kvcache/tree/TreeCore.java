package dev.icecache.kvcache.tree;

/**
 * The parts of one tree that every cell works on: the node table, the pages, the transform and
 * the dirty-cell marks, plus sort scratch. Package-private plumbing of {@link DciTree}.
 */
final class TreeCore {

    final int headDim;
    final DciParams params;
    final Nodes nodes;
    final LeafPages pages;
    final MipsTransform mips;
    final DirtyCells dirty = new DirtyCells();
    private int[] sortBuf = new int[64];  // scratch for re-layouts, [member]
    private int[] spareBuf = new int[64]; // scratch for compaction, [member]

    TreeCore(int headDim, DciParams params, Projection projection, double m2) {
        this.headDim = headDim;
        this.params = params;
        this.nodes = new Nodes(headDim);
        this.pages = new LeafPages(params.leafCapacity(), nodes);
        this.mips = new MipsTransform(projection, m2);
    }

    /** A second scratch for a caller that itself calls code using {@link #sortBuf}. */
    int[] spareBuf(int size) {
        if (spareBuf.length < size) {
            spareBuf = new int[Math.max(size, spareBuf.length * 2)];
        }
        return spareBuf;
    }

    int[] sortBuf(int size) {
        if (sortBuf.length < size) {
            sortBuf = new int[Math.max(size, sortBuf.length * 2)];
        }
        return sortBuf;
    }

    /** Sorts node ids {@code ids[from..to)} by stored projection, ties by node id (heapsort, in place). */
    void sortByProjection(int[] ids, int from, int to) {
        int n = to - from;
        for (int i = n / 2 - 1; i >= 0; i--) {
            siftDown(ids, from, i, n);
        }
        for (int end = n - 1; end > 0; end--) {
            int t = ids[from];
            ids[from] = ids[from + end];
            ids[from + end] = t;
            siftDown(ids, from, 0, end);
        }
    }

    private void siftDown(int[] ids, int base, int i, int n) {
        double[] proj = nodes.proj;
        while (true) {
            int c = 2 * i + 1;
            if (c >= n) {
                return;
            }
            if (c + 1 < n && before(proj, ids[base + c], ids[base + c + 1])) {
                c++;
            }
            if (!before(proj, ids[base + i], ids[base + c])) {
                return;
            }
            int t = ids[base + i];
            ids[base + i] = ids[base + c];
            ids[base + c] = t;
            i = c;
        }
    }

    private static boolean before(double[] proj, int a, int b) {
        int c = Double.compare(proj[a], proj[b]);
        return c < 0 || (c == 0 && a < b);
    }
}
