package dev.icecache.kvcache.tree;

import java.util.Arrays;

/**
 * The nodes of one level of a DCI tree, in token order (icecache.md "The tree": every token is a
 * node at exactly one level). A node's rank at a level is its index here; anchors of the parent
 * shortcut are the nodes whose rank is a multiple of the anchor interval.
 */
final class DciLevel {

    private int[] nodes = new int[16]; // [rank] node id, increasing
    private int count;

    /** Appends a node; node ids arrive in increasing order. */
    void add(int node) {
        assert count == 0 || nodes[count - 1] < node : "level nodes out of order";
        if (count == nodes.length) {
            nodes = Arrays.copyOf(nodes, nodes.length * 2);
        }
        nodes[count++] = node;
    }

    /** Nodes at this level. */
    int count() {
        return count;
    }

    /** The node of rank {@code rank}. */
    int node(int rank) {
        assert rank >= 0 && rank < count;
        return nodes[rank];
    }

    /** The rank of {@code node} at this level, or a negative value when it is not here. */
    int rankOf(int node) {
        return Arrays.binarySearch(nodes, 0, count, node);
    }
}
