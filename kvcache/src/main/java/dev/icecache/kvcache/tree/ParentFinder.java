package dev.icecache.kvcache.tree;

/**
 * Chooses a node's parent one level up: the nearest node under the key-key distance of
 * {@link MipsTransform} (icecache.md "The tree").
 *
 * <pre>
 *   level above has &lt;= exactParentThreshold nodes   exact: scan them all
 *   otherwise                                        anchor shortcut: ranks that are multiples of
 *       anchorInterval are anchors and get the exact parent; any other node takes the closer of
 *       its two neighbouring anchors' parents if that distance is within 1.02x the largest
 *       distance of that parent's children so far, else the exact parent.
 * </pre>
 *
 * In a stream the anchor after a node may not exist yet; then only the one before is tried.
 * Ties go to the lower node id, so the choice is deterministic.
 */
final class ParentFinder {

    /** Slack on a parent's largest child distance for accepting an anchor's parent (icecache.md). */
    static final double ANCHOR_SLACK = 1.02;

    private final TreeCore core;
    private final DciTree tree; // a parent's largest child distance lives on its cell (ChildIndex.maxChildDist)
    private final int[] dots4 = new int[4];        // exact()'s scratch: four code dots
    private final double[] dot4 = new double[4];   // and their augmented dots

    ParentFinder(TreeCore core, DciTree tree) {
        this.core = core;
        this.tree = tree;
    }

    double maxChildDistance(int node) {
        return tree.cellOf(node).maxChildDist;
    }

    void restoreMaxChildDistance(int node, double d) {
        tree.cellOf(node).maxChildDist = (float) d;
    }

    /** Records that {@code child} now hangs under {@code parent} (a node with a cell: level &gt;= 1). */
    void noteChild(int child, int parent) {
        ChildIndex cell = tree.cellOf(parent);
        cell.maxChildDist = (float) Math.max(cell.maxChildDist, distance(child, parent));
    }

    /** Key-key distance of two nodes under the current M^2. */
    double distance(int a, int b) {
        return core.mips.keyDistance(core.nodes, a, b);
    }

    /**
     * The parent of {@code node} among {@code above}, using the anchor shortcut beyond the exact
     * threshold.
     *
     * @param own the node's own level (for its rank and its anchors)
     */
    int find(int node, DciLevel own, DciLevel above) {
        DciParams params = core.params;
        if (above.count() <= params.exactParentThreshold()) {
            return exact(node, above);
        }
        int rank = own.rankOf(node);
        int interval = params.anchorInterval();
        if (rank % interval == 0) {
            return exact(node, above);
        }
        int best = -1;
        double bestDist = Double.POSITIVE_INFINITY;
        int before = rank - rank % interval;
        for (int anchorRank = before; anchorRank <= before + interval; anchorRank += interval) {
            if (anchorRank >= own.count()) {
                break;
            }
            int p = core.nodes.parent[own.node(anchorRank)];
            if (p == Nodes.ROOT || core.nodes.level[p] != core.nodes.level[node] + 1) {
                continue;
            }
            double d = distance(node, p);
            if (d < bestDist || (d == bestDist && p < best)) {
                bestDist = d;
                best = p;
            }
        }
        if (best >= 0 && bestDist <= ANCHOR_SLACK * tree.cellOf(best).maxChildDist) {
            return best;
        }
        return exact(node, above);
    }

    /** The exact nearest node of {@code level} to {@code node}; ties to the lower id. */
    int exact(int node, DciLevel level) {
        Nodes n = core.nodes;
        int best = -1;
        double bestDot = Double.NEGATIVE_INFINITY;
        int c = level.count();
        int r = 0;
        // four candidates per code pass (MipsTransform.augmentedDot4: the same doubles), compared
        // in rank order as one at a time
        for (; r + 4 <= c; r += 4) {
            core.mips.augmentedDot4(n, node, level.node(r), level.node(r + 1), level.node(r + 2), level.node(r + 3),
                    dots4, dot4);
            for (int u = 0; u < 4; u++) {
                if (dot4[u] > bestDot) {
                    bestDot = dot4[u];
                    best = level.node(r + u);
                }
            }
        }
        for (; r < c; r++) {
            int y = level.node(r);
            double dot = core.mips.augmentedDot(n, node, y);
            if (dot > bestDot) {
                bestDot = dot;
                best = y;
            }
        }
        return best;
    }

    /**
     * The {@code k} nearest nodes of {@code level} to {@code node} other than itself, nearest
     * first, into {@code out}; returns how many (fewer when the level is small).
     */
    int nearest(int node, DciLevel level, int k, int[] out, double[] outDot) {
        Nodes n = core.nodes;
        int found = 0;
        for (int r = 0, c = level.count(); r < c; r++) {
            int y = level.node(r);
            if (y == node) {
                continue;
            }
            double dot = core.mips.augmentedDot(n, node, y);
            int i = found < k ? found++ : k;
            while (i > 0 && outDot[i - 1] < dot) {
                if (i < k) {
                    out[i] = out[i - 1];
                    outDot[i] = outDot[i - 1];
                }
                i--;
            }
            if (i < k) {
                out[i] = y;
                outDot[i] = dot;
            }
        }
        return found;
    }
}
