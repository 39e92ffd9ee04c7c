package dev.icecache.kvcache.tree;

import dev.icecache.kvcache.HeadAttention;
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
 *   3. every scored node offers its score to its page; pages best-first (score desc, page id
 *      asc): the first maxPages. Page score = best q.k scored in it.
 * </pre>
 *
 * With {@link DciParams#withExhaustiveSearch()} every node is scored, so the result is the exact
 * best pages. Scratch arrays grow to the largest call and are reused; not thread-safe.
 */
final class TreeSearch {

    private final DciTree tree;
    private final ScoredHeap nodeHeap = new ScoredHeap();
    private final ScoredHeap pageHeap = new ScoredHeap();
    private float[] pageBest = new float[0];     // [page] best score this call (valid when touched)
    private boolean[] pageTouched = new boolean[0];
    private int[] touched = new int[64];
    private int touchedCount;
    private ChildIndex[] frontier = new ChildIndex[64];
    private ChildIndex[] nextFrontier = new ChildIndex[64];
    private boolean scanAll;                     // this call scores every token (DciParams.exhaustive(n))

    TreeSearch(DciTree tree) {
        this.tree = tree;
    }

    int search(float[] q, int qOff, int maxPages, int[] outPages, float[] outScores, SearchStats stats) {
        TreeCore core = tree.core;
        ensurePages(core.pages.limit());
        double qp = core.mips.queryProjection(q, qOff, core.headDim);
        scanAll = core.params.exhaustive(core.nodes.size);
        int fov = scanAll ? Integer.MAX_VALUE : core.params.fieldOfView(core.nodes.size);
        int frontierCount = 0;
        frontier[frontierCount++] = tree.root;
        long dots = 0;
        for (int level = tree.top; level >= 0; level--) {
            nodeHeap.clear();
            for (int c = 0; c < frontierCount; c++) {
                dots += scan(frontier[c], q, qOff, qp);
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
            ChildIndex cell = tree.cells[nodeHeap.pop()];
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
    private int scan(ChildIndex cell, float[] q, int qOff, double qp) {
        int leafCount = cell.leafCount();
        if (leafCount == 0) {
            return 0;
        }
        int want = scanAll ? cell.childCount()
                : (int) Math.min(cell.childCount(), Math.ceil(tree.core.params.scanProportion() * cell.childCount()));
        int left = cell.findLeaf(qp);
        int right = left + 1;
        int scored = scoreLeaf(cell.leaf(left), q, qOff);
        left--;
        while (scored < want) {
            boolean takeLeft;
            if (left < 0) {
                takeLeft = false;
            } else if (right >= leafCount) {
                takeLeft = true;
            } else {
                takeLeft = qp - cell.leafMax(left) <= cell.leafMin(right) - qp;
            }
            scored += scoreLeaf(cell.leaf(takeLeft ? left-- : right++), q, qOff);
        }
        return scored;
    }

    private int scoreLeaf(int page, float[] q, int qOff) {
        TreeCore core = tree.core;
        int n = core.pages.rowCount(page);
        for (int s = 0; s < n; s++) {
            int x = core.pages.node(page, s);
            float score = HeadAttention.dot(q, qOff, core.nodes.keys, core.nodes.keyOff(x), core.headDim);
            nodeHeap.add(score, x);
            offerPage(page, score);
        }
        return n;
    }

    private void offerPage(int page, float score) {
        if (!pageTouched[page]) {
            pageTouched[page] = true;
            pageBest[page] = score;
            if (touchedCount == touched.length) {
                touched = Arrays.copyOf(touched, touchedCount * 2);
            }
            touched[touchedCount++] = page;
        } else if (Float.compare(score, pageBest[page]) > 0) {
            pageBest[page] = score;
        }
    }

    private int selectPages(int maxPages, int[] outPages, float[] outScores) {
        pageHeap.clear();
        for (int i = 0; i < touchedCount; i++) {
            int page = touched[i];
            pageHeap.add(pageBest[page], page);
            pageTouched[page] = false;
        }
        touchedCount = 0;
        pageHeap.heapify();
        int n = 0;
        while (n < maxPages && pageHeap.size() > 0) {
            outScores[n] = pageHeap.topScore();
            outPages[n] = pageHeap.pop();
            n++;
        }
        return n;
    }

    private void ensurePages(int limit) {
        if (pageBest.length < limit) {
            int cap = Math.max(limit, pageBest.length * 2);
            pageBest = Arrays.copyOf(pageBest, cap);
            pageTouched = Arrays.copyOf(pageTouched, cap);
        }
    }
}
