package dev.icecache.kvcache.tree;

/**
 * How a {@link DciTree} grows: bulk build on an empty tree, and [ours] streaming insertion of
 * later batches that keeps the tree shaped as a bulk build of the same tokens would be.
 *
 * <pre>
 *   promotion    deterministic by counting: the r-th node (0-based) with level &gt;= l moves up to
 *                l+1 when floor((r+1) p) &gt; floor(r p), p = p0 at level 0 and p1 above. Bulk and
 *                stream therefore give every token the same level.
 *   new top      the first node of a new level becomes the only top node: the root's cell is
 *                handed to it whole (no row moves) and the root then holds it alone.
 *   re-parent    [ours] a new node y at level l &gt;= 1 looks at the children of its
 *                REPARENT_NEIGHBOURS nearest nodes at level l and at the last RECENT_WINDOW/p
 *                nodes of level l-1, and adopts those now closer to y than to their parent;
 *                work per new upper node is bounded by those cells. Cells that gave children
 *                away are compacted (ChildIndex.compact) so they keep no half-empty pages.
 *   measured     20k clustered keys, 16-token batches: without re-parenting/ripple/compaction
 *                incremental top-64 recall was 0.52 against 0.61 bulk; with them 0.607 vs 0.608
 *                (StreamingQualityTest).
 * </pre>
 */
final class TreeGrowth {

    /** Nearest same-level nodes whose children a new upper node may adopt [ours]. */
    static final int REPARENT_NEIGHBOURS = 8;
    /** Recent nodes of the level below a new node checks, in units of that level's promotion gap [ours]. */
    static final double RECENT_WINDOW = 2.0;

    private final DciTree tree;
    private final TreeCore core;
    private final int[] neighbours = new int[REPARENT_NEIGHBOURS];
    private final double[] neighbourDots = new double[REPARENT_NEIGHBOURS];
    private int[] adopt = new int[64]; // scratch: children moving to a new node

    TreeGrowth(DciTree tree) {
        this.tree = tree;
        this.core = tree.core;
    }

    /** The level a new node gets (and counts it at each level it reaches). */
    int promote() {
        long[] atLeast = tree.atLeast;
        int l = 0;
        while (true) {
            long r = atLeast[l]++;
            double p = l == 0 ? core.params.p0() : core.params.p1();
            if (l + 1 < atLeast.length && Math.floor((r + 1) * p) > Math.floor(r * p)) {
                l++;
            } else {
                return l;
            }
        }
    }

    /** Makes room for {@code n} more nodes in every per-node table. */
    void reserve(int n) {
        Nodes nodes = core.nodes;
        nodes.ensureCapacity(n);
    }

    /** Appends one token as a node with its promoted level (capacity reserved); returns its id. */
    int appendNode(float[] keys, int off, int token) {
        Nodes nodes = core.nodes;
        int level = promote();
        int x = nodes.append(token, keys, off, level);
        tree.level(level).add(x);
        core.dirty.markChunkOf(x);
        core.mips.observe(nodes.norm2[x]);
        return x;
    }

    /** Builds an empty tree over nodes [0, size): parents level by level, then every cell bulk-loaded. */
    void bulkBuild() {
        Nodes nodes = core.nodes;
        int top = tree.levelCount() - 1;
        tree.top = top;
        double m2 = core.mips.m2();
        tree.root = new ChildIndex(core, Nodes.ROOT, m2);
        for (int x = 0; x < nodes.size; x++) {
            if (nodes.level[x] > 0) {
                tree.setCell(x, new ChildIndex(core, x, m2));
            }
        }
        for (int l = top - 1; l >= 0; l--) {
            DciLevel own = tree.level(l);
            DciLevel above = tree.level(l + 1);
            int interval = core.params.anchorInterval();
            for (int pass = 0; pass < 2; pass++) {
                for (int r = 0; r < own.count(); r++) {
                    if ((r % interval == 0) == (pass == 0)) {
                        int x = own.node(r);
                        int p = tree.finder.find(x, own, above);
                        nodes.parent[x] = p;
                        tree.finder.noteChild(x, p);
                    }
                }
            }
        }
        for (int x = 0; x < nodes.size; x++) {
            nodes.proj[x] = core.mips.keyProjection(nodes, x, m2);
            if (nodes.level[x] == top) {
                nodes.parent[x] = Nodes.ROOT;
            }
        }
        loadCells();
    }

    /** Groups nodes by parent (counting sort, root first), sorts each group by projection, bulk-loads. */
    private void loadCells() {
        Nodes nodes = core.nodes;
        int n = nodes.size;
        int[] start = new int[n + 2]; // [owner + 1] first index of its children
        for (int x = 0; x < n; x++) {
            start[nodes.parent[x] + 2]++;
        }
        for (int i = 1; i < start.length; i++) {
            start[i] += start[i - 1];
        }
        int[] grouped = new int[n];
        int[] next = start.clone();
        for (int x = 0; x < n; x++) {
            grouped[next[nodes.parent[x] + 1]++] = x;
        }
        for (int owner = Nodes.ROOT; owner < n; owner++) {
            int from = start[owner + 1];
            int to = start[owner + 2];
            if (to > from) {
                core.sortByProjection(grouped, from, to);
                tree.cell(owner).bulkLoad(grouped, from, to - from);
            }
        }
    }

    /** Inserts node x (already appended with its level) into a grown tree. */
    void insert(int x) {
        Nodes nodes = core.nodes;
        int l = nodes.level[x];
        if (l > 0) {
            tree.setCell(x, new ChildIndex(core, x, core.mips.m2()));
        }
        if (l > tree.top) {
            // x is the first node of a new level: it takes over the root's children whole
            assert l == tree.top + 1 && tree.level(l).count() == 1;
            ChildIndex oldRoot = tree.root;
            oldRoot.reown(x);
            tree.setCell(x, oldRoot);
            for (int j = 0; j < oldRoot.leafCount(); j++) {
                for (int s = 0; s < core.pages.rowCount(oldRoot.leaf(j)); s++) {
                    tree.finder.noteChild(core.pages.node(oldRoot.leaf(j), s), x);
                }
            }
            tree.root = new ChildIndex(core, Nodes.ROOT, core.mips.m2());
            tree.top = l;
            tree.root.insert(x);
            return;
        }
        ChildIndex target;
        if (l == tree.top) {
            target = tree.root;
        } else {
            int p = tree.finder.find(x, tree.level(l), tree.level(l + 1));
            target = tree.cellOf(p);
            tree.finder.noteChild(x, p);
        }
        target.refresh();
        target.insert(x);
        if (l > 0) {
            reparent(x);
        }
    }

    /**
     * [ours] Adopts nodes one level below y that are now closer to y than to their parent: the
     * children of y's nearest same-level nodes, and the most recent nodes of the level below
     * (a stream's new topic reaches the level below before it has a node of its own up here).
     */
    private void reparent(int y) {
        Nodes nodes = core.nodes;
        int l = nodes.level[y];
        int count = 0;
        int k = tree.finder.nearest(y, tree.level(l), REPARENT_NEIGHBOURS, neighbours, neighbourDots);
        for (int i = 0; i < k; i++) {
            ChildIndex theirs = tree.cellOf(neighbours[i]);
            for (int j = 0; j < theirs.leafCount(); j++) {
                int page = theirs.leaf(j);
                for (int s = 0; s < core.pages.rowCount(page); s++) {
                    count = considerAdopting(y, core.pages.node(page, s), count);
                }
            }
        }
        DciLevel below = tree.level(l - 1);
        double p = l - 1 == 0 ? core.params.p0() : core.params.p1();
        int window = (int) Math.ceil(RECENT_WINDOW / p);
        for (int r = Math.max(0, below.count() - window); r < below.count(); r++) {
            count = considerAdopting(y, below.node(r), count);
        }
        if (count == 0) {
            return;
        }
        ChildIndex mine = tree.cellOf(y);
        mine.refresh();
        int donorCount = 0;
        for (int a = 0; a < count; a++) {
            int c = adopt[a];
            int donor = nodes.parent[c];
            if (donor == y) {
                continue; // listed twice: a neighbour's child that is also recent
            }
            tree.cellOf(donor).remove(c);
            mine.insert(c);
            tree.finder.noteChild(c, y);
            // reuse the front of adopt[] (already consumed) as the list of donors
            boolean listed = false;
            for (int i = 0; i < donorCount && !listed; i++) {
                listed = adopt[i] == donor;
            }
            if (!listed) {
                adopt[donorCount++] = donor;
            }
        }
        for (int i = 0; i < donorCount; i++) {
            tree.cellOf(adopt[i]).compact();
        }
    }

    private int considerAdopting(int y, int c, int count) {
        int parent = core.nodes.parent[c];
        if (parent == y || parent == Nodes.ROOT || tree.finder.distance(c, y) >= tree.finder.distance(c, parent)) {
            return count;
        }
        if (count == adopt.length) {
            adopt = java.util.Arrays.copyOf(adopt, count * 2);
        }
        adopt[count] = c;
        return count + 1;
    }
}
