package dev.icecache.kvcache.tree;

import java.util.Arrays;

/**
 * The nodes of one level of a DCI tree, in token order (icecache.md "The tree": every token is a
 * node at exactly one level). A node's rank at a level is its index here; anchors of the parent
 * shortcut are the nodes whose rank is a multiple of the anchor interval.
 *
 * <pre>
 *   sparse (levels &gt;= 1)  nodes[rank]: the node ids, increasing
 *   dense  (level 0)       holds nearly every node (all but about p0 of them), so it keeps the
 *                          complement instead: gaps[] = the ids up to its last node that are NOT
 *                          here (they sit at higher levels); rank(x) = x - #gaps below x.
 *                          Saves 4 bytes a token per tree (issue 12).
 * </pre>
 */
final class DciLevel {

    private final boolean dense;
    private int[] nodes = new int[16]; // sparse: [rank] node id, increasing; dense: the gaps, increasing
    private int listed;                // entries of nodes[] in use
    private int count;
    private int last = -1;             // dense: the largest node id here

    /** A level listing its nodes; {@code dense}: a level holding nearly every node (level 0), kept as its gaps. */
    DciLevel(boolean dense) {
        this.dense = dense;
    }

    /** Appends a node; node ids arrive in increasing order. */
    void add(int node) {
        if (!dense) {
            assert count == 0 || nodes[count - 1] < node : "level nodes out of order";
            push(node);
            count++;
            return;
        }
        assert node > last : "level nodes out of order";
        for (int gap = last + 1; gap < node; gap++) {
            push(gap);
        }
        last = node;
        count++;
    }

    private void push(int id) {
        if (listed == nodes.length) {
            nodes = Arrays.copyOf(nodes, nodes.length * 2);
        }
        nodes[listed++] = id;
    }

    /** Nodes at this level. */
    int count() {
        return count;
    }

    /** The node of rank {@code rank}. */
    int node(int rank) {
        assert rank >= 0 && rank < count;
        if (!dense) {
            return nodes[rank];
        }
        // the answer is rank + j where j = the gaps below it: the first j with gaps[j] - j > rank
        // (gaps[j] - j never decreases, the gaps being distinct and increasing)
        int lo = 0;
        int hi = listed;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (nodes[mid] - mid > rank) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return rank + lo;
    }

    /** The rank of {@code node} at this level, or a negative value when it is not here. */
    int rankOf(int node) {
        if (!dense) {
            return Arrays.binarySearch(nodes, 0, count, node);
        }
        if (node < 0 || node > last) {
            return -1;
        }
        int i = Arrays.binarySearch(nodes, 0, listed, node);
        return i >= 0 ? -1 : node - (-i - 1);
    }

    /** Heap bytes of the list. */
    long heapBytes() {
        return 4L * nodes.length;
    }
}
