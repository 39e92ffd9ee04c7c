package dev.icecache.kvcache.tree;

import java.util.Arrays;

/**
 * Page selection for one query row (icecache.md "Selecting pages for one query head").
 *
 * <pre>
 *   1. cells = {root}
 *   2. for level = top .. 0:
 *        for each cell: score children (exact q.k) outward from the query's projection, leaf
 *                       by leaf, until &gt;= scanProportion of the cell is scored
 *        if level &gt; 0: cells = the cells of the best fieldOfView scored nodes, more while
 *                       those cells hold fewer leaves than maxPages
 *   3. every scored page offers its score; pages best-first (score desc, page id asc):
 *      the first maxPages. Page score = DciParams.pageScore of its rows (paper: best q.k).
 * </pre>
 *
 * Scores are {@link RankingDot} products over the nodes' compact keys ({@link CompactKeys}: int8
 * codes times the row's scale; a fixed order that differs from attention's, see there). A page is a leaf of exactly one cell, every cell is scanned at most once per call and a
 * scan takes each leaf once, so each page is scored at most once, always whole: its score is
 * known when its leaf is done and goes straight to the page heap. Level-0 nodes have no cells, so
 * the last level's scores go to the pages only.
 *
 * With {@link DciParams#withExhaustiveSearch()} every node is scored, so the result is the exact
 * best pages. Scratch arrays grow to the largest call and are reused; not thread-safe.
 */
final class TreeSearch {

    private final DciTree tree;
    private final ScoredHeap nodeHeap = new ScoredHeap();
    private final ScoredHeap pageHeap = new ScoredHeap();
    private ChildIndex[] frontier = new ChildIndex[64];
    private ChildIndex[] nextFrontier = new ChildIndex[64];
    private boolean scanAll;                     // this call scores every token (DciParams.exhaustive(n))
    private float[] rowScores = new float[16];   // scratch: the rows of the leaf being scored
    private final PageRowScores rowScorer = new PageRowScores();

    TreeSearch(DciTree tree) {
        this.tree = tree;
    }

    int search(float[] q, int qOff, int maxPages, int[] outPages, float[] outScores, SearchStats stats) {
        TreeCore core = tree.core;
        double qp = core.mips.queryProjection(q, qOff, core.headDim);
        scanAll = core.params.exhaustive(core.nodes.size);
        int fov = scanAll ? Integer.MAX_VALUE : core.params.fieldOfView(core.nodes.size);
        int frontierCount = 0;
        frontier[frontierCount++] = tree.root;
        long dots = 0;
        pageHeap.clear();
        for (int level = tree.top; level >= 0; level--) {
            nodeHeap.clear();
            boolean keepNodes = level > 0;
            for (int c = 0; c < frontierCount; c++) {
                dots += scan(frontier[c], q, qOff, qp, keepNodes);
            }
            if (level == 0) {
                break;
            }
            frontierCount = keepBest(fov, maxPages);
            ChildIndex[] t = frontier;
            frontier = nextFrontier;
            nextFrontier = t;
        }
        int written = selectPages(maxPages, outPages, outScores);
        if (stats != null) {
            stats.exactDots += dots;
            stats.candidates += (int) dots;
            stats.queries++;
        }
        return written;
    }

    /** Fills nextFrontier with the cells of the best nodes in nodeHeap; returns how many. */
    private int keepBest(int fov, int maxPages) {
        nodeHeap.heapify();
        int kept = 0;
        int cells = 0;
        long leaves = 0;
        while (nodeHeap.size() > 0 && (kept < fov || leaves < maxPages)) {
            ChildIndex cell = tree.cellOf(nodeHeap.pop());
            kept++;
            if (cell.childCount() > 0) {
                if (cells == nextFrontier.length) {
                    nextFrontier = Arrays.copyOf(nextFrontier, cells * 2);
                }
                nextFrontier[cells++] = cell;
                leaves += cell.leafCount();
            }
        }
        return cells;
    }

    /** Scores a cell's leaves outward from qp until the scan share is met; returns dots done. */
    private int scan(ChildIndex cell, float[] q, int qOff, double qp, boolean keepNodes) {
        int leafCount = cell.leafCount();
        if (leafCount == 0) {
            return 0;
        }
        int want = scanAll ? cell.childCount()
                : (int) Math.min(cell.childCount(), Math.ceil(tree.core.params.scanProportion() * cell.childCount()));
        long range = cell.scanRange(qp, want);
        int scored = 0;
        for (int j = ChildIndex.rangeLo(range), hi = ChildIndex.rangeHi(range); j <= hi; j++) {
            scored += scoreLeaf(cell.leaf(j), q, qOff, keepNodes);
        }
        return scored;
    }

    /** Scores every row of a page; offers the page its best score, and the nodes theirs when kept. */
    private int scoreLeaf(int page, float[] q, int qOff, boolean keepNodes) {
        TreeCore core = tree.core;
        LeafPages pages = core.pages;
        byte[] codes = core.nodes.codes;
        float[] scale = core.nodes.scale;
        int d = core.headDim;
        int n = pages.rowCount(page);
        if (rowScores.length < n) {
            rowScores = new float[n];
        }
        rowScorer.score(pages, page, n, q, qOff, codes, scale, d, rowScores);
        float best = Float.NEGATIVE_INFINITY;
        for (int s = 0; s < n; s++) {
            float score = rowScores[s];
            if (keepNodes) {
                nodeHeap.add(score, pages.node(page, s));
            }
            if (Float.compare(score, best) > 0) {
                best = score;
            }
        }
        pageHeap.add(core.params.pageScore().of(rowScores, n, best, d), page);
        return n;
    }

    private int selectPages(int maxPages, int[] outPages, float[] outScores) {
        pageHeap.heapify();
        int n = 0;
        while (n < maxPages && pageHeap.size() > 0) {
            outScores[n] = pageHeap.topScore();
            outPages[n] = pageHeap.pop();
            n++;
        }
        return n;
    }
}
