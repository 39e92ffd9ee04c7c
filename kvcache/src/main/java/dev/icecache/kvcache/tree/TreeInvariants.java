package dev.icecache.kvcache.tree;


/**
 * The structural invariants of a {@link DciTree} (style.md rule 8), checked from scratch. Tests
 * call {@link DciTree#checkInvariants()} after every mutation; each failure names what broke.
 *
 * <pre>
 *   nodes      tokens strictly increasing; levels listed in order; top = highest level;
 *              M^2 &gt;= every |k|^2
 *   cells      the root holds exactly the top level, every other node sits in its parent's cell
 *              one level up; projections = keyProjection(cell M^2); leaves in projection order
 *   fill       single-leaf cell: 1..cap rows; two or more leaves: cap/2..cap rows each
 *   pages      token -&gt; (page, slot) is a bijection onto the live rows; every page is live in
 *              exactly one cell or free; pages touched by a pending move are in the changed set
 * </pre>
 */
final class TreeInvariants {

    private TreeInvariants() {
    }

    static void check(DciTree tree) {
        TreeCore core = tree.core;
        Nodes nodes = core.nodes;
        int n = nodes.size;
        int levelsUsed = tree.levelCount();
        require(n == 0 ? tree.top == 0 : tree.top == levelsUsed - 1, "top=%d but levels in use=%d", tree.top, levelsUsed);
        int listed = 0;
        for (int l = 0; l < levelsUsed; l++) {
            DciLevel level = tree.level(l);
            for (int r = 0; r < level.count(); r++) {
                require(nodes.level[level.node(r)] == l, "node=%d listed at level=%d has level=%d",
                        level.node(r), l, nodes.level[level.node(r)]);
            }
            listed += level.count();
        }
        require(listed == n, "levels list %d nodes, size=%d", listed, n);
        for (int x = 0; x < n; x++) {
            require(x == 0 || nodes.token(x) > nodes.token(x - 1), "tokens not increasing at node=%d", x);
            require(nodes.norm2[x] <= core.mips.m2(), "node=%d |k|^2=%s exceeds M^2=%s", x, nodes.norm2[x], core.mips.m2());
            require((nodes.level[x] > 0) == (tree.cellOf(x) != null), "node=%d level=%d but cell present=%s",
                    x, nodes.level[x], tree.cellOf(x) != null);
        }
        boolean[] seenPage = new boolean[core.pages.limit()];
        boolean[] seenNode = new boolean[n];
        checkCell(tree, tree.root, tree.top, seenPage, seenNode);
        for (int x = 0; x < n; x++) {
            if (tree.cellOf(x) != null) {
                require(tree.cellOf(x).owner() == x, "cell of node=%d is owned by %d", x, tree.cellOf(x).owner());
                checkCell(tree, tree.cellOf(x), nodes.level[x] - 1, seenPage, seenNode);
            }
        }
        for (int x = 0; x < n; x++) {
            require(seenNode[x], "node=%d (token=%d) is in no cell", x, nodes.token(x));
        }
        LeafPages pages = core.pages;
        for (int i = 0; i < pages.freeCount(); i++) {
            int page = pages.freeId(i);
            require(!seenPage[page] && pages.rowCount(page) == 0, "free page=%d is live or listed twice", page);
            seenPage[page] = true;
        }
        for (int page = 0; page < pages.limit(); page++) {
            require(seenPage[page], "page=%d is neither in a cell nor free", page);
        }
        for (int x = 0; x < n; x++) {
            int origin = pages.pendingOrigin(x);
            if (origin != -2 && pages.changedCoversMoves()) {
                require(origin == DciTree.NO_PAGE || pages.isChanged(origin), "page=%d lost node=%d but is not marked changed", origin, x);
                require(pages.isChanged(nodes.page[x]), "page=%d gained node=%d but is not marked changed", nodes.page[x], x);
            }
        }
    }

    private static void checkCell(DciTree tree, ChildIndex cell, int childLevel, boolean[] seenPage, boolean[] seenNode) {
        TreeCore core = tree.core;
        Nodes nodes = core.nodes;
        LeafPages pages = core.pages;
        int cap = pages.capacity();
        int total = 0;
        double prevMax = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < cell.leafCount(); j++) {
            int page = cell.leaf(j);
            require(page >= 0 && page < pages.limit() && !seenPage[page], "cell of %d lists page=%d twice or out of range",
                    cell.owner(), page);
            seenPage[page] = true;
            int rows = pages.rowCount(page);
            int min = cell.leafCount() == 1 ? 1 : cap / 2;
            require(rows >= min && rows <= cap, "page=%d in the cell of %d holds %d rows, must be %d..%d (leaves=%d)",
                    page, cell.owner(), rows, min, cap, cell.leafCount());
            for (int s = 0; s < rows; s++) {
                int x = pages.node(page, s);
                require(x >= 0 && x < nodes.size && !seenNode[x], "page=%d slot=%d holds node=%d twice or out of range", page, s, x);
                seenNode[x] = true;
                require(nodes.page[x] == page && nodes.slot[x] == s, "node=%d maps to (%d,%d) but sits in (%d,%d)",
                        x, nodes.page[x], nodes.slot[x], page, s);
                require(nodes.parent[x] == cell.owner(), "node=%d has parent=%d but sits in the cell of %d", x, nodes.parent[x], cell.owner());
                require(nodes.level[x] == childLevel, "node=%d at level=%d in a cell of level-%d children", x, nodes.level[x], childLevel);
                double p = core.mips.keyProjection(nodes, x, cell.cellM2());
                require(p == nodes.proj[x], "node=%d stored projection %s differs from %s under cell M^2", x, nodes.proj[x], p);
            }
            require(cell.leafMin(j) >= prevMax, "cell of %d leaves out of projection order at leaf=%d", cell.owner(), j);
            prevMax = cell.leafMax(j);
            total += rows;
        }
        require(total == cell.childCount(), "cell of %d counts %d children, leaves hold %d", cell.owner(), cell.childCount(), total);
    }

    private static void require(boolean ok, String fmt, Object... args) {
        if (!ok) {
            throw new AssertionError("DciTree invariant broken: " + String.format(fmt, args));
        }
    }
}
