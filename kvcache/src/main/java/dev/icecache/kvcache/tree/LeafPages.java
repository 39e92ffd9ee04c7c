package dev.icecache.kvcache.tree;

import dev.icecache.kvcache.page.LongIntMap;
import java.util.Arrays;

/**
 * The pages of one tree: B+-tree leaves of at most {@code capacity} rows, addressed by page id.
 * Every node sits in exactly one (page, slot); rows of a page are always slots 0..rowCount-1.
 *
 * <pre>
 *   rows[page*capacity + slot]  node id in that row (valid for slot &lt; rowCount[page])
 *   rowCount[page]              valid rows; 0 for a dead (free) id
 *   free[0..freeCount)          dead ids, reused last-freed first
 * </pre>
 *
 * NOTE: keys are not copied here. A page-ordered float32 copy of every key once made the search
 * stream a leaf's keys; it doubled the tree's key memory (issue 12), and the compact keys of
 * {@link Nodes} (64 bytes a row at headDim 64: one cache line) are read by node id instead.
 *
 * It also keeps the two logs the page store needs: the <b>move log</b> (for every node whose
 * place changed since the last drain: where it was at the drain, in the order first moved) and
 * the <b>changed pages</b> (every id whose rows changed: insert, removal, split, merge, free).
 * NOTE: the drained move log is net per node (origin at the last drain -&gt; place now), so a
 * store that reads every source row first and then writes every destination row is correct even
 * when a node moved twice in one batch.
 */
final class LeafPages {

    /** Move-log entries kept after a drain; a larger log (a prefill chunk's) is released. */
    private static final int RETAINED_MOVES = 256;

    private final int capacity;
    private final Nodes nodes;
    private int[] rows = new int[0];
    private int[] rowCount = new int[0];
    private int limit;
    private int[] free = new int[0];
    private int freeCount;

    private boolean[] changed = new boolean[0]; // [page]
    private int[] changedList = new int[0];
    private int changedCount;

    private LongIntMap pendingIndex = new LongIntMap(64); // node -> index into moveNode (pending nodes only)
    private int[] moveNode = new int[0];
    private int[] originPage = new int[0];
    private int[] originSlot = new int[0];
    private int moveCount;
    private boolean changedDrainedMidway; // changed pages drained while moves were pending

    private final boolean[] keep; // scratch of layout: [slot] taken

    LeafPages(int capacity, Nodes nodes) {
        this.capacity = capacity;
        this.nodes = nodes;
        this.keep = new boolean[capacity];
    }

    int capacity() {
        return capacity;
    }

    int limit() {
        return limit;
    }

    int rowCount(int page) {
        return rowCount[page];
    }

    int node(int page, int slot) {
        assert slot >= 0 && slot < rowCount[page];
        return rows[page * capacity + slot];
    }

    /** Bytes of the page tables and logs on the heap (array capacities). */
    long heapBytes() {
        return 4L * (rows.length + rowCount.length + free.length + changedList.length + 3L * pendingIndex.size()
                + moveNode.length + originPage.length + originSlot.length) + changed.length + keep.length;
    }

    int freeCount() {
        return freeCount;
    }

    int freeId(int i) {
        return free[i];
    }

    /** A fresh empty page: a reused dead id, or the next id. */
    int allocate() {
        int page;
        if (freeCount > 0) {
            page = free[--freeCount];
        } else {
            page = limit++;
            if (page >= rowCount.length) {
                // by 1/8, as Nodes: less unused room per tree (112 trees per document on Llama-3.2-1B)
                int cap = Math.max(16, rowCount.length + (rowCount.length >> 3));
                rowCount = Arrays.copyOf(rowCount, cap);
                rows = Arrays.copyOf(rows, Math.multiplyExact(cap, capacity));
                changed = Arrays.copyOf(changed, cap);
            }
        }
        rowCount[page] = 0;
        markChanged(page);
        return page;
    }

    /** Returns an emptied page id to the free list. */
    void release(int page) {
        assert rowCount[page] == 0 : "release of a non-empty page " + page;
        if (freeCount == free.length) {
            free = Arrays.copyOf(free, Math.max(16, free.length * 2));
        }
        free[freeCount++] = page;
        markChanged(page);
    }

    /** Appends a node as the last row of a page with room. */
    void append(int page, int node) {
        assert rowCount[page] < capacity;
        assign(node, page, rowCount[page]++);
    }

    /** Puts {@code in} into the (page, slot) of {@code out}, which leaves its page (to be placed by the caller). */
    void replace(int out, int in) {
        int page = nodes.page[out];
        int slot = nodes.slot[out];
        noteOrigin(out);
        assign(in, page, slot);
        nodes.page[out] = DciTree.NO_PAGE;
    }

    /** Removes a node from its page; the last row fills the hole so rows stay compact. */
    void remove(int node) {
        int page = nodes.page[node];
        int slot = nodes.slot[node];
        noteOrigin(node);
        int last = --rowCount[page];
        if (slot != last) {
            assign(rows[page * capacity + last], page, slot);
        }
        nodes.page[node] = DciTree.NO_PAGE;
        markChanged(page);
    }

    /**
     * Makes {@code page} hold exactly {@code members[from..from+count)}. Members already in this
     * page keep their slot when it is still valid, so a re-layout moves as few rows as it can.
     * Members leaving other pages must be re-laid there by the caller in the same operation.
     */
    void layout(int page, int[] members, int from, int count) {
        assert count <= capacity;
        Arrays.fill(keep, false);
        for (int i = from; i < from + count; i++) {
            int node = members[i];
            if (nodes.page[node] == page && nodes.slot[node] < count && rows[page * capacity + nodes.slot[node]] == node) {
                keep[nodes.slot[node]] = true;
            }
        }
        int nextFree = 0;
        for (int i = from; i < from + count; i++) {
            int node = members[i];
            boolean stays = nodes.page[node] == page && nodes.slot[node] < count && keep[nodes.slot[node]]
                    && rows[page * capacity + nodes.slot[node]] == node;
            if (!stays) {
                while (keep[nextFree]) {
                    nextFree++;
                }
                keep[nextFree] = true;
                assign(node, page, nextFree);
            }
        }
        rowCount[page] = count;
        markChanged(page);
    }

    private void assign(int node, int page, int slot) {
        noteOrigin(node);
        if (nodes.page[node] != DciTree.NO_PAGE) {
            markChanged(nodes.page[node]);
        }
        rows[page * capacity + slot] = node;
        nodes.page[node] = page;
        nodes.slot[node] = (byte) slot;
        markChanged(page);
    }

    private void noteOrigin(int node) {
        if (pendingIndex.get(node) != LongIntMap.MISSING) {
            return;
        }
        if (moveCount == moveNode.length) {
            int cap = Math.max(64, moveNode.length * 2);
            moveNode = Arrays.copyOf(moveNode, cap);
            originPage = Arrays.copyOf(originPage, cap);
            originSlot = Arrays.copyOf(originSlot, cap);
        }
        pendingIndex.put(node, moveCount);
        moveNode[moveCount] = node;
        originPage[moveCount] = nodes.page[node];
        originSlot[moveCount] = nodes.page[node] == DciTree.NO_PAGE ? -1 : nodes.slot[node];
        moveCount++;
    }

    /** Empties the move log; a log grown past {@link #RETAINED_MOVES} (a prefill chunk's) is released. */
    private void forgetPending() {
        if (moveNode.length > RETAINED_MOVES) {
            pendingIndex = new LongIntMap(64);
            moveNode = new int[0];
            originPage = new int[0];
            originSlot = new int[0];
        } else {
            for (int i = 0; i < moveCount; i++) {
                pendingIndex.remove(moveNode[i]);
            }
        }
        moveCount = 0;
    }

    private void markChanged(int page) {
        if (!changed[page]) {
            changed[page] = true;
            if (changedCount == changedList.length) {
                changedList = Arrays.copyOf(changedList, Math.max(64, changedList.length * 2));
            }
            changedList[changedCount++] = page;
        }
    }

    boolean isChanged(int page) {
        return changed[page];
    }

    int changedCount() {
        return changedCount;
    }

    int drainChanged(int[] out) {
        changedDrainedMidway |= moveCount > 0;
        int n = changedCount;
        for (int i = 0; i < n; i++) {
            out[i] = changedList[i];
            changed[changedList[i]] = false;
        }
        changedCount = 0;
        return n;
    }

    /** The origin page of a node with a pending move, or NO_PAGE; -2 when none is pending. */
    int pendingOrigin(int node) {
        int i = pendingIndex.get(node);
        return i == LongIntMap.MISSING ? -2 : originPage[i];
    }

    /** Net moves pending: nodes whose place differs from their place at the last drain. */
    int pendingMoves() {
        int n = 0;
        for (int i = 0; i < moveCount; i++) {
            int node = moveNode[i];
            if (originPage[i] != nodes.page[node] || originSlot[i] != nodes.slot[node]) {
                n++;
            }
        }
        return n;
    }

    /** Writes the net moves (as node ids) and clears the log; returns the count written. */
    int drainMoves(int[] node, int[] fromPage, int[] fromSlot, int[] toPage, int[] toSlot) {
        int n = 0;
        for (int i = 0; i < moveCount; i++) {
            int x = moveNode[i];
            if (originPage[i] == nodes.page[x] && originSlot[i] == nodes.slot[x]) {
                continue;
            }
            node[n] = x;
            fromPage[n] = originPage[i];
            fromSlot[n] = originSlot[i];
            toPage[n] = nodes.page[x];
            toSlot[n] = nodes.slot[x];
            n++;
        }
        forgetPending();
        changedDrainedMidway = false;
        return n;
    }

    /** False once changed pages were drained while moves were pending (their pages may be drained). */
    boolean changedCoversMoves() {
        return !changedDrainedMidway;
    }

    /** Restores the id space: ids 0..limit-1, of which {@code freeIds} are dead (snapshot restore). */
    void restoreIds(int newLimit, int[] freeIds, int count) {
        assert limit == 0 : "restore into a used page table";
        while (limit < newLimit) {
            allocate();
        }
        free = Arrays.copyOf(freeIds, Math.max(16, count));
        freeCount = count;
    }

    /** Restores a page's rows verbatim (snapshot restore; the logs are cleared afterwards). */
    void restorePage(int page, int[] members, int count) {
        for (int s = 0; s < count; s++) {
            rows[page * capacity + s] = members[s];
            nodes.page[members[s]] = page;
            nodes.slot[members[s]] = (byte) s;
        }
        rowCount[page] = count;
    }

    /** Forgets both logs (after restore: the restored state is the baseline). */
    void clearLogs() {
        forgetPending();
        drainChanged(changedList);
        changedDrainedMidway = false;
    }
}
