package dev.icecache.kvcache.tree;

import java.util.Arrays;

/**
 * Which snapshot cells changed since the last drain, and the cell id scheme.
 *
 * <pre>
 *   cell id = (index &lt;&lt; 2) | kind
 *   kind 0  HEADER      index 0: sizes, M^2, page id space
 *   kind 1  NODE_CHUNK  index c: tokens, levels and keys of nodes [c*CHUNK, (c+1)*CHUNK)
 *                       (CHUNK = 16 from cell version 2, one page's worth: nodes never change
 *                       once added, so each chunk is written once; 256 in version 1)
 *   kind 2  CHILD_INDEX index owner+1 (0 = the virtual root): one parent's B+-tree and its pages
 * </pre>
 */
final class DirtyCells {

    static final int HEADER = 0;
    static final int KIND_CHUNK = 1;
    static final int KIND_CHILD_INDEX = 2;
    /** Nodes per node-chunk cell (cell version 2 on). */
    static final int CHUNK = 16;
    /** Nodes per node-chunk cell in cell version 1. */
    static final int CHUNK_V1 = 256;

    private boolean header;
    private boolean[] chunk = new boolean[0];  // [chunk]
    private boolean[] index = new boolean[0];  // [owner + 1]
    private int[] list = new int[16];
    private int count;

    static int chunkId(int chunkNo) {
        return (chunkNo << 2) | KIND_CHUNK;
    }

    static int childIndexId(int owner) {
        return ((owner + 1) << 2) | KIND_CHILD_INDEX;
    }

    static int kind(int cell) {
        return cell & 3;
    }

    static int index(int cell) {
        return cell >>> 2;
    }

    void markHeader() {
        if (!header) {
            header = true;
            push(HEADER);
        }
    }

    void markChunkOf(int node) {
        int c = node / CHUNK;
        if (c >= chunk.length) {
            chunk = Arrays.copyOf(chunk, Math.max(c + 1, chunk.length * 2));
        }
        if (!chunk[c]) {
            chunk[c] = true;
            push(chunkId(c));
        }
    }

    void markChildIndex(int owner) {
        int i = owner + 1;
        if (i >= index.length) {
            index = Arrays.copyOf(index, Math.max(i + 1, index.length * 2));
        }
        if (!index[i]) {
            index[i] = true;
            push(childIndexId(owner));
        }
    }

    /** Marks every chunk of {@code size} nodes (a tree restored from another chunk size rewrites them all). */
    void markAllChunks(int size) {
        for (int x = 0; x < size; x += CHUNK) {
            markChunkOf(x);
        }
    }

    int count() {
        return count;
    }

    int drain(int[] out) {
        int n = count;
        for (int i = 0; i < n; i++) {
            int cell = list[i];
            out[i] = cell;
            switch (kind(cell)) {
                case HEADER -> header = false;
                case KIND_CHUNK -> chunk[index(cell)] = false;
                default -> index[index(cell)] = false;
            }
        }
        count = 0;
        return n;
    }

    private void push(int cell) {
        if (count == list.length) {
            list = Arrays.copyOf(list, list.length * 2);
        }
        list[count++] = cell;
    }
}
