package dev.icecache.kvcache.tree;

import java.util.Arrays;

/**
 * The children of one parent (or of the virtual root), sorted by projection, in a B+-tree whose
 * leaves are the pages (icecache.md "The tree").
 *
 * <pre>
 *   leaves[0..leafCount)   page ids in projection order: max proj(leaf j) &lt;= min proj(leaf j+1)
 *   inside a leaf          rows in slot order, not sorted (slots stay stable on insert)
 *   cellM2                 the M^2 under which this cell's projections were computed
 * </pre>
 *
 * NOTE: the B+-tree has two levels: this sorted directory of leaves and the leaves. A cell holds
 * about 1/p0 children, so a directory search is a binary search over a few leaves; deeper
 * internal nodes would add code without saving work at these sizes.
 *
 * <p>Leaf fill: a cell with one leaf holds 1..capacity rows; in a cell with two or more leaves
 * every leaf holds capacity/2..capacity rows. Inserts split a full leaf half + half (the upper
 * half gets a new page id); removals merge an underfull leaf with a neighbour or share rows
 * with it.
 */
final class ChildIndex {

    /** Leaves each way an insert into a full leaf may ripple rows before it splits [ours]. */
    static final int RIPPLE_LEAVES = 8;
    /** Heap bytes of one cell besides its leaf array: the object and the array's header. */
    static final long BASE_BYTES = 64;

    private final TreeCore core;
    private int owner;           // node id of the parent, or Nodes.ROOT
    private int[] leaves = new int[2];
    private int leafCount;
    private int childCount;
    private double cellM2;
    /**
     * {@link GroupSearch}'s per-level dedup of the cells its heads visit: the generation in which
     * this cell got a scan slot, and the slot. Kept on the cell (one per parent) instead of in
     * tables indexed by node id (8 bytes a token per tree).
     */
    int searchStamp;
    int searchSlot;
    /** The owner's largest key distance to a child assigned to it ({@link ParentFinder}; float: a bound). */
    float maxChildDist;

    ChildIndex(TreeCore core, int owner, double cellM2) {
        this.core = core;
        this.owner = owner;
        this.cellM2 = cellM2;
        core.dirty.markChildIndex(owner); // a new cell must reach the snapshot even while empty
    }

    int owner() {
        return owner;
    }

    int leafCount() {
        return leafCount;
    }

    int leaf(int j) {
        return leaves[j];
    }

    int childCount() {
        return childCount;
    }

    double cellM2() {
        return cellM2;
    }

    /** Hands this cell to a new owner (the root's cell becomes a new top node's cell). */
    void reown(int newOwner) {
        core.dirty.markChildIndex(owner);
        owner = newOwner;
        int[] parent = core.nodes.parent;
        for (int j = 0; j < leafCount; j++) {
            for (int s = 0; s < core.pages.rowCount(leaves[j]); s++) {
                parent[core.pages.node(leaves[j], s)] = newOwner;
            }
        }
        core.dirty.markChildIndex(owner);
    }

    /** Smallest stored projection in leaf j. */
    double leafMin(int j) {
        int page = leaves[j];
        double m = Double.POSITIVE_INFINITY;
        for (int s = 0, n = core.pages.rowCount(page); s < n; s++) {
            m = Math.min(m, core.nodes.proj[core.pages.node(page, s)]);
        }
        return m;
    }

    /** Largest stored projection in leaf j. */
    double leafMax(int j) {
        int page = leaves[j];
        double m = Double.NEGATIVE_INFINITY;
        for (int s = 0, n = core.pages.rowCount(page); s < n; s++) {
            m = Math.max(m, core.nodes.proj[core.pages.node(page, s)]);
        }
        return m;
    }

    /**
     * The leaves a search scores in this cell for a query projected to {@code p}: from
     * {@link #findLeaf}, outward one leaf at a time to the side whose nearest bound is closer to p
     * (ties: left), until the leaves hold at least {@code want} rows (want &lt;= childCount). A
     * contiguous range, read with {@link #rangeLo} and {@link #rangeHi}; each side's bound is
     * computed once per leaf, where the walk used to recompute both at every step.
     */
    long scanRange(double p, int want) {
        LeafPages pages = core.pages;
        int left = findLeaf(p);
        int right = left + 1;
        int lo = left;
        int hi = left;
        int scored = pages.rowCount(leaves[left]);
        left--;
        double leftMax = left >= 0 ? leafMax(left) : 0;
        double rightMin = right < leafCount ? leafMin(right) : 0;
        while (scored < want) {
            boolean takeLeft;
            if (left < 0) {
                takeLeft = false;
            } else if (right >= leafCount) {
                takeLeft = true;
            } else {
                takeLeft = p - leftMax <= rightMin - p;
            }
            if (takeLeft) {
                lo = left;
                scored += pages.rowCount(leaves[left--]);
                if (left >= 0) {
                    leftMax = leafMax(left);
                }
            } else {
                hi = right;
                scored += pages.rowCount(leaves[right++]);
                if (right < leafCount) {
                    rightMin = leafMin(right);
                }
            }
        }
        return ((long) lo << 32) | (hi & 0xFFFFFFFFL);
    }

    /** The first leaf of a {@link #scanRange}. */
    static int rangeLo(long range) {
        return (int) (range >>> 32);
    }

    /** The last leaf of a {@link #scanRange}. */
    static int rangeHi(long range) {
        return (int) range;
    }

    /** The leaf whose range covers projection p: the last leaf with min &lt;= p, else leaf 0. */
    int findLeaf(double p) {
        int lo = 1;
        int hi = leafCount - 1;
        int found = 0;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (leafMin(mid) <= p) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    /** Recomputes projections under the current M^2 if it grew; re-sorts the leaves if order broke. */
    void refresh() {
        double m2 = core.mips.m2();
        if (cellM2 == m2) {
            return;
        }
        cellM2 = m2;
        core.dirty.markChildIndex(owner);
        Nodes nodes = core.nodes;
        for (int j = 0; j < leafCount; j++) {
            for (int s = 0, n = core.pages.rowCount(leaves[j]); s < n; s++) {
                int x = core.pages.node(leaves[j], s);
                nodes.proj[x] = core.mips.keyProjection(nodes, x, m2);
            }
        }
        for (int j = 0; j + 1 < leafCount; j++) {
            if (leafMax(j) > leafMin(j + 1)) {
                relayoutAll();
                return;
            }
        }
    }

    /** Inserts a node (its projection is computed here under this cell's M^2, which must be current). */
    void insert(int node) {
        assert cellM2 == core.mips.m2() : "insert into a stale cell; call refresh first";
        Nodes nodes = core.nodes;
        double p = core.mips.keyProjection(nodes, node, cellM2);
        nodes.proj[node] = p;
        nodes.parent[node] = owner;
        core.dirty.markChildIndex(owner);
        childCount++;
        if (leafCount == 0) {
            insertLeaf(0, core.pages.allocate());
            core.pages.append(leaves[0], node);
            return;
        }
        int j = findLeaf(p);
        if (core.pages.rowCount(leaves[j]) == core.pages.capacity()) {
            insertIntoFull(j, node);
        } else {
            core.pages.append(leaves[j], node);
        }
    }

    /**
     * Inserts {@code node} into full leaf j. [ours] Like a B*-tree, it first ripples boundary rows
     * toward the nearest leaf with room within {@link #RIPPLE_LEAVES} leaves (each leaf on the
     * way hands its row nearest the next leaf on, so leaves stay in projection order and each
     * moves one row); only when none has room does leaf j split half + half. Without this a
     * tree grown by inserts averaged 10.7 rows per page against 14.8 for a bulk build of the same
     * keys, and fewer rows per fetched page cost recall.
     */
    /** Bytes of this cell on the heap: its leaf list and the object itself (about 48 bytes). */
    long heapBytes() {
        return 48L + 4L * leaves.length;
    }

    private void insertIntoFull(int j, int node) {
        insertIntoFull(j, node, RIPPLE_LEAVES);
    }

    private void insertIntoFull(int j, int node, int rippleLeaves) {
        LeafPages pages = core.pages;
        int cap = pages.capacity();
        for (int dist = 1; dist <= rippleLeaves; dist++) {
            if (j + dist < leafCount && pages.rowCount(leaves[j + dist]) < cap) {
                ripple(j, j + dist, node);
                return;
            }
            if (j - dist >= 0 && pages.rowCount(leaves[j - dist]) < cap) {
                ripple(j, j - dist, node);
                return;
            }
        }
        split(j);
        if (leafMin(j + 1) <= core.nodes.proj[node]) {
            j++;
        }
        pages.append(leaves[j], node);
    }

    /** Carries one row per leaf from leaf {@code from} toward leaf {@code to}, which has room. */
    private void ripple(int from, int to, int node) {
        LeafPages pages = core.pages;
        boolean right = to > from;
        double[] proj = core.nodes.proj;
        int carry = node;
        for (int i = from; i != to; i += right ? 1 : -1) {
            int out = extremeRow(leaves[i], right);
            int c = Double.compare(proj[carry], proj[out]);
            boolean carryPasses = right ? (c > 0 || (c == 0 && carry > out)) : (c < 0 || (c == 0 && carry < out));
            if (!carryPasses) {
                pages.replace(out, carry);
                carry = out;
            }
        }
        pages.append(leaves[to], carry);
    }

    /** The row of a page with the largest (or smallest) projection; ties to the larger (smaller) id. */
    private int extremeRow(int page, boolean largest) {
        int best = -1;
        for (int s = 0, n = core.pages.rowCount(page); s < n; s++) {
            int x = core.pages.node(page, s);
            if (best < 0) {
                best = x;
                continue;
            }
            int c = Double.compare(core.nodes.proj[x], core.nodes.proj[best]);
            if (largest ? (c > 0 || (c == 0 && x > best)) : (c < 0 || (c == 0 && x < best))) {
                best = x;
            }
        }
        return best;
    }

    /**
     * [ours] Gives back a page when the cell holds more leaves than its rows need: the least full
     * leaf is emptied and its rows rippled into the others (no split can happen: the rest has
     * room). Called after children leave for another parent, so cells that stop receiving
     * tokens (a stream's old topics) do not keep half-empty pages.
     */
    void compact() {
        LeafPages pages = core.pages;
        int cap = pages.capacity();
        while (leafCount > 1 && leafCount > (childCount + cap - 1) / cap) {
            int j = 0;
            for (int i = 1; i < leafCount; i++) {
                if (pages.rowCount(leaves[i]) < pages.rowCount(leaves[j])) {
                    j = i;
                }
            }
            int page = leaves[j];
            int n = pages.rowCount(page);
            int[] buf = core.spareBuf(n);
            for (int s = 0; s < n; s++) {
                buf[s] = pages.node(page, s);
            }
            for (int s = 0; s < n; s++) {
                pages.remove(buf[s]);
            }
            removeLeaf(j);
            pages.release(page);
            core.dirty.markChildIndex(owner);
            for (int s = 0; s < n; s++) {
                int x = buf[s];
                int at = findLeaf(core.nodes.proj[x]);
                if (pages.rowCount(leaves[at]) < cap) {
                    pages.append(leaves[at], x);
                } else {
                    insertIntoFull(at, x, leafCount);
                }
            }
        }
    }

    /** Builds the leaves of an empty cell from children sorted by projection, filled evenly. */
    void bulkLoad(int[] sorted, int from, int count) {
        assert leafCount == 0 && childCount == 0;
        int cap = core.pages.capacity();
        int k = (count + cap - 1) / cap;
        core.dirty.markChildIndex(owner);
        for (int i = from; i < from + count; i++) {
            core.nodes.parent[sorted[i]] = owner;
        }
        int start = from;
        for (int j = 0; j < k; j++) {
            int size = count / k + (j < count % k ? 1 : 0);
            int page = core.pages.allocate();
            insertLeaf(leafCount, page);
            core.pages.layout(page, sorted, start, size);
            start += size;
        }
        childCount = count;
    }

    /** Removes a child (it must be in this cell) and rebalances its leaf. */
    void remove(int node) {
        int page = core.nodes.page[node];
        int j = 0;
        while (leaves[j] != page) {
            j++;
        }
        core.dirty.markChildIndex(owner);
        core.pages.remove(node);
        childCount--;
        rebalance(j);
    }

    private void rebalance(int j) {
        LeafPages pages = core.pages;
        int page = leaves[j];
        int size = pages.rowCount(page);
        if (size == 0) {
            removeLeaf(j);
            pages.release(page);
            return;
        }
        int half = pages.capacity() / 2;
        if (leafCount < 2 || size >= half) {
            return;
        }
        int lo = j + 1 < leafCount ? j : j - 1;
        int a = leaves[lo];
        int b = leaves[lo + 1];
        int total = pages.rowCount(a) + pages.rowCount(b);
        int[] buf = core.sortBuf(total);
        int n = 0;
        for (int s = 0; s < pages.rowCount(a); s++) {
            buf[n++] = pages.node(a, s);
        }
        for (int s = 0; s < pages.rowCount(b); s++) {
            buf[n++] = pages.node(b, s);
        }
        if (total <= pages.capacity()) {
            // merge into the fuller page so fewer rows move; the other id dies
            boolean keepA = pages.rowCount(a) >= pages.rowCount(b);
            int kept = keepA ? a : b;
            pages.layout(kept, buf, 0, total);
            int dead = keepA ? b : a;
            pages.layout(dead, buf, 0, 0);
            leaves[lo] = kept;
            removeLeaf(lo + 1);
            pages.release(dead);
        } else {
            core.sortByProjection(buf, 0, total);
            pages.layout(a, buf, 0, total / 2);
            pages.layout(b, buf, total / 2, total - total / 2);
        }
    }

    private void split(int j) {
        LeafPages pages = core.pages;
        int page = leaves[j];
        int n = pages.rowCount(page);
        int[] buf = core.sortBuf(n);
        for (int s = 0; s < n; s++) {
            buf[s] = pages.node(page, s);
        }
        core.sortByProjection(buf, 0, n);
        int fresh = pages.allocate();
        insertLeaf(j + 1, fresh);
        pages.layout(page, buf, 0, n / 2);
        pages.layout(fresh, buf, n / 2, n - n / 2);
    }

    /** Re-sorts every child and lays them out evenly over the same pages, in order. */
    private void relayoutAll() {
        int[] buf = core.sortBuf(childCount);
        int n = 0;
        for (int j = 0; j < leafCount; j++) {
            for (int s = 0; s < core.pages.rowCount(leaves[j]); s++) {
                buf[n++] = core.pages.node(leaves[j], s);
            }
        }
        core.sortByProjection(buf, 0, n);
        int start = 0;
        for (int j = 0; j < leafCount; j++) {
            int size = n / leafCount + (j < n % leafCount ? 1 : 0);
            core.pages.layout(leaves[j], buf, start, size);
            start += size;
        }
    }

    private void insertLeaf(int j, int page) {
        if (leafCount == leaves.length) {
            leaves = Arrays.copyOf(leaves, leaves.length * 2);
        }
        System.arraycopy(leaves, j, leaves, j + 1, leafCount - j);
        leaves[j] = page;
        leafCount++;
    }

    private void removeLeaf(int j) {
        System.arraycopy(leaves, j + 1, leaves, j, leafCount - j - 1);
        leafCount--;
    }

    /** Restores this (empty) cell's state from a snapshot: pages in order, then counts. */
    void restore(int[] leafPages, int count, int children, double m2) {
        leaves = Arrays.copyOf(leafPages, Math.max(2, count));
        leafCount = count;
        childCount = children;
        cellM2 = m2;
    }
}
