package dev.icecache.kvcache.tree;

import java.util.Arrays;

/**
 * {@link TreeSearch} for the query heads of one GQA group in one pass over the tree: every head
 * keeps its own frontier, scan ranges and heaps, so each head gets exactly the pages (and
 * scores) of its own {@link TreeSearch#search}, but a leaf that several heads scan is read once
 * and scored against each of them while its rows are in cache.
 *
 * <pre>
 *   for level = top .. 0:
 *     1. per head, per frontier cell: the leaf range its scan covers (TreeSearch.scan's rule:
 *        outward from the head's projection until the scan share is met; it depends on leaf
 *        bounds and row counts only, never on scores, so it is known before scoring)
 *     2. per distinct cell: every leaf in the union of the heads' ranges once; each row scored
 *        against the heads whose range holds the leaf (RankingDot), offered to their heaps
 *     3. per head: the next frontier from its node heap (TreeSearch.keepBest)
 * </pre>
 *
 * Heaps order pairs by (score desc, id asc) and every node and page is offered to a head at most
 * once per level, so the order of offers does not change any result: equality with per-head
 * search holds bit for bit (tested). Scratch arrays grow to the largest call; not thread-safe.
 */
final class GroupSearch {

    private final DciTree tree;
    private ScoredHeap[] nodeHeap = new ScoredHeap[0];   // [head]
    private ScoredHeap[] pageHeap = new ScoredHeap[0];   // [head]
    private ChildIndex[][] frontier = new ChildIndex[0][];
    private ChildIndex[][] nextFrontier = new ChildIndex[0][];
    private int[] frontierCount = new int[0];
    private double[] qp = new double[0];
    // scan jobs of one level: (cell, head, first leaf, last leaf), grouped by cell through jobOfCell
    private ChildIndex[] cellOf = new ChildIndex[16];
    private int[] cellHeads = new int[16 * 4];           // [distinct cell][head] lo, or -1 when not scanned
    private int[] cellHi = new int[16 * 4];
    private int generation;
    private int heads;
    /**
     * A sum of the next leaf's first and last code bytes and scales; never read, only kept so that
     * the JIT cannot drop those loads.
     *
     * <p>NOTE: why. A leaf's rows sit at random places of the node-ordered code table (each row a
     * cache miss at 64k keys), and a row's dots depend on its load, so the CPU overlapped few
     * misses. Java has no prefetch instruction; these independent loads, issued one leaf ahead,
     * bring the next leaf's rows in while this leaf is scored (BENCHMARKS.md, issue 13, ninth
     * session: 16 trees of 64k keys, a group search 3.4 -> 2.5-2.7 ms; a page-ordered copy of the
     * codes gave the same, so the table keeps its node order). Head sizes up to 64 are one or two
     * lines, which the first and last byte cover; larger rows get their middle lines by the
     * adjacent-line prefetch or not at all (results are the same either way).
     */
    private int touchSink;

    GroupSearch(DciTree tree) {
        this.tree = tree;
    }

    /**
     * Searches for {@code heads} query rows at {@code q[qOff + h*headDim]}: head h's best pages at
     * {@code outPages[h*maxPages ..]}, scores likewise, their number in {@code outCounts[h]}.
     */
    void search(float[] q, int qOff, int heads, int maxPages, int[] outPages, float[] outScores, int[] outCounts,
                SearchStats stats) {
        TreeCore core = tree.core;
        int d = core.headDim;
        ensureHeads(heads);
        boolean scanAll = core.params.exhaustive(core.nodes.size);
        int fov = scanAll ? Integer.MAX_VALUE : core.params.fieldOfView(core.nodes.size);
        for (int h = 0; h < heads; h++) {
            qp[h] = core.mips.queryProjection(q, qOff + h * d, d);
            frontier[h][0] = tree.root;
            frontierCount[h] = 1;
            pageHeap[h].clear();
        }
        long dots = 0;
        for (int level = tree.top; level >= 0; level--) {
            boolean keepNodes = level > 0;
            int cells = planLevel(scanAll);
            for (int c = 0; c < cells; c++) {
                dots += scanCell(c, q, qOff, keepNodes);
            }
            if (level == 0) {
                break;
            }
            for (int h = 0; h < heads; h++) {
                frontierCount[h] = keepBest(h, fov, maxPages);
                ChildIndex[] t = frontier[h];
                frontier[h] = nextFrontier[h];
                nextFrontier[h] = t;
            }
        }
        for (int h = 0; h < heads; h++) {
            ScoredHeap pages = pageHeap[h];
            pages.heapify();
            int n = 0;
            int at = h * maxPages;
            while (n < maxPages && pages.size() > 0) {
                outScores[at + n] = pages.topScore();
                outPages[at + n] = pages.pop();
                n++;
            }
            outCounts[h] = n;
        }
        if (stats != null) {
            stats.exactDots += dots;
            stats.candidates += (int) dots;
            stats.queries += heads;
        }
    }

    /** Clears every cell's search stamp (when the generation counter wraps). */
    private void resetStamps() {
        tree.root.searchStamp = 0;
        for (int i = 0; i < tree.cellCount(); i++) {
            tree.cellAt(i).searchStamp = 0;
        }
    }

    /** Step 1: every head's scan range in every cell of its frontier; returns the distinct cells. */
    private int planLevel(boolean scanAll) {
        if (++generation == Integer.MAX_VALUE) {
            resetStamps();
            generation = 1;
        }
        int cells = 0;
        double share = tree.core.params.scanProportion();
        for (int h = 0; h < heads; h++) {
            nodeHeap[h].clear();
            for (int f = 0; f < frontierCount[h]; f++) {
                ChildIndex cell = frontier[h][f];
                if (cell.leafCount() == 0) {
                    continue;
                }
                int slot;
                if (cell.searchStamp == generation) {
                    slot = cell.searchSlot;
                } else {
                    slot = cells++;
                    ensureCells(cells);
                    cell.searchStamp = generation;
                    cell.searchSlot = slot;
                    cellOf[slot] = cell;
                    Arrays.fill(cellHeads, slot * heads, slot * heads + heads, -1);
                }
                int want = scanAll ? cell.childCount()
                        : (int) Math.min(cell.childCount(), Math.ceil(share * cell.childCount()));
                long range = cell.scanRange(qp[h], want);
                int lo = ChildIndex.rangeLo(range);
                int hi = ChildIndex.rangeHi(range);
                cellHeads[slot * heads + h] = lo;
                cellHi[slot * heads + h] = hi;
            }
        }
        return cells;
    }

    /** [head][row] the row scores of the page being scanned, for the page score. */
    private float[][] rowScores = new float[0][0];
    private final PageRowScores rowScorer = new PageRowScores();

    /** Step 2: scores the union of the heads' ranges in one cell; returns the dots done. */
    private long scanCell(int slot, float[] q, int qOff, boolean keepNodes) {
        ChildIndex cell = cellOf[slot];
        TreeCore core = tree.core;
        LeafPages pages = core.pages;
        byte[] codes = core.nodes.codes;
        float[] scale = core.nodes.scale;
        int d = core.headDim;
        int base = slot * heads;
        int from = Integer.MAX_VALUE;
        int to = -1;
        for (int h = 0; h < heads; h++) {
            if (cellHeads[base + h] >= 0) {
                from = Math.min(from, cellHeads[base + h]);
                to = Math.max(to, cellHi[base + h]);
            }
        }
        long dots = 0;
        int touched = 0;
        for (int j = from; j <= to; j++) {
            int page = cell.leaf(j);
            int n = pages.rowCount(page);
            if (j < to) {
                // the next leaf's code rows and scales, read now (see touchSink); inline, as a call
                // here measured slower (2.9 against 2.5-2.7 ms)
                int next = cell.leaf(j + 1);
                for (int s = 0, m = pages.rowCount(next); s < m; s++) {
                    int x = pages.node(next, s);
                    touched += codes[x * d] + codes[x * d + d - 1] + (int) scale[x];
                }
            }
            if (rowScores.length < heads || rowScores[0].length < n) {
                rowScores = new float[Math.max(heads, rowScores.length)][Math.max(n, 16)];
            }
            for (int h = 0; h < heads; h++) {
                int lo = cellHeads[base + h];
                if (lo < 0 || j < lo || j > cellHi[base + h]) {
                    continue;
                }
                // every row of the leaf scored first (PageRowScores), then offered to the heaps in
                // row order, as before
                float[] rs = rowScores[h];
                rowScorer.score(pages, page, n, q, qOff + h * d, codes, scale, d, rs);
                float top = Float.NEGATIVE_INFINITY;
                for (int s = 0; s < n; s++) {
                    float score = rs[s];
                    if (keepNodes) {
                        nodeHeap[h].add(score, pages.node(page, s));
                    }
                    if (Float.compare(score, top) > 0) {
                        top = score;
                    }
                }
                dots += n;
                pageHeap[h].add(core.params.pageScore().of(rs, n, top, d), page);
            }
        }
        touchSink += touched;
        return dots;
    }

    /** Step 3, as TreeSearch.keepBest for one head: its next frontier; returns its size. */
    private int keepBest(int h, int fov, int maxPages) {
        ScoredHeap nodes = nodeHeap[h];
        nodes.heapify();
        int kept = 0;
        int cells = 0;
        long leaves = 0;
        while (nodes.size() > 0 && (kept < fov || leaves < maxPages)) {
            ChildIndex cell = tree.cellOf(nodes.pop());
            kept++;
            if (cell.childCount() > 0) {
                if (cells == nextFrontier[h].length) {
                    nextFrontier[h] = Arrays.copyOf(nextFrontier[h], cells * 2);
                }
                nextFrontier[h][cells++] = cell;
                leaves += cell.leafCount();
            }
        }
        return cells;
    }

    private void ensureHeads(int n) {
        if (nodeHeap.length < n) {
            int old = nodeHeap.length;
            nodeHeap = Arrays.copyOf(nodeHeap, n);
            pageHeap = Arrays.copyOf(pageHeap, n);
            frontier = Arrays.copyOf(frontier, n);
            nextFrontier = Arrays.copyOf(nextFrontier, n);
            for (int h = old; h < n; h++) {
                nodeHeap[h] = new ScoredHeap();
                pageHeap[h] = new ScoredHeap();
                frontier[h] = new ChildIndex[64];
                nextFrontier[h] = new ChildIndex[64];
            }
            frontierCount = new int[n];
            qp = new double[n];
        }
        if (heads != n) {
            heads = n;
            cellHeads = new int[cellOf.length * n];
            cellHi = new int[cellOf.length * n];
        }
    }

    private void ensureCells(int n) {
        if (cellOf.length < n) {
            int cap = Math.max(n, cellOf.length * 2);
            cellOf = Arrays.copyOf(cellOf, cap);
            cellHeads = Arrays.copyOf(cellHeads, cap * heads);
            cellHi = Arrays.copyOf(cellHi, cap * heads);
        }
    }
}
