package dev.icecache.kvcache.tree;

import dev.icecache.kvcache.Checks;
import java.util.Arrays;

/**
 * The nodes of one tree as a struct of arrays (style.md rule 6). Node ids are 0..size-1 in token
 * order: tokens arrive strictly increasing, so token -&gt; node is a binary search.
 *
 * <pre>
 *   token[node]        the token id (= position)
 *   keys[node*d + i]   the post-RoPE key row, headDim floats
 *   norm2[node]        |k|^2 in double
 *   headProj[node]     u[0..d).k in double (the part of the projection that never changes)
 *   proj[node]         the full projection under the M^2 of the cell that holds the node
 *   level[node]        0 = finest
 *   parent[node]       the node whose cell holds it, or ROOT for the top level
 *   page[node], slot[node]   where it sits (slot &lt; leafCapacity &lt;= 127)
 * </pre>
 */
final class Nodes {

    /** parent[] sentinel: the node is a child of the virtual root. */
    static final int ROOT = -1;
    /** Most nodes one tree holds, so that cell ids (node + 1) &lt;&lt; 2 fit an int. */
    static final int MAX_NODES = (1 << 28) - 1;

    final int headDim;
    int size;
    int[] token = new int[0];
    float[] keys = new float[0];
    double[] norm2 = new double[0];
    double[] headProj = new double[0];
    double[] proj = new double[0];
    byte[] level = new byte[0];
    int[] parent = new int[0];
    int[] page = new int[0];
    byte[] slot = new byte[0];

    Nodes(int headDim) {
        this.headDim = headDim;
    }

    /** Makes room for {@code more} nodes beyond size; grows by 1.5x. */
    void ensureCapacity(int more) {
        long need = (long) size + more;
        Checks.checkArgument(need <= MAX_NODES, "a DCI tree holds at most %d tokens; size=%d adding=%d",
                MAX_NODES, size, more);
        if (need <= token.length) {
            return;
        }
        int cap = (int) Math.min(MAX_NODES, Math.max(need, Math.max(16L, token.length + (token.length >> 1))));
        token = Arrays.copyOf(token, cap);
        keys = Arrays.copyOf(keys, Math.multiplyExact(cap, headDim));
        norm2 = Arrays.copyOf(norm2, cap);
        headProj = Arrays.copyOf(headProj, cap);
        proj = Arrays.copyOf(proj, cap);
        level = Arrays.copyOf(level, cap);
        parent = Arrays.copyOf(parent, cap);
        page = Arrays.copyOf(page, cap);
        slot = Arrays.copyOf(slot, cap);
    }

    /** Appends one node (capacity ensured by the caller); returns its id. */
    int append(int tok, float[] src, int srcOff, int lvl, double headProjection) {
        int node = size++;
        token[node] = tok;
        System.arraycopy(src, srcOff, keys, node * headDim, headDim);
        double n2 = 0;
        for (int i = 0; i < headDim; i++) {
            n2 += (double) src[srcOff + i] * src[srcOff + i];
        }
        norm2[node] = n2;
        headProj[node] = headProjection;
        level[node] = (byte) lvl;
        parent[node] = ROOT;
        page[node] = DciTree.NO_PAGE;
        return node;
    }

    /** The node holding {@code tok}, or -1. */
    int nodeOf(int tok) {
        int i = Arrays.binarySearch(token, 0, size, tok);
        return i >= 0 ? i : -1;
    }

    /** Heap bytes of the node arrays (their capacity, not only {@link #size}). */
    long retainedBytes() {
        return 4L * token.length + 4L * keys.length + 8L * (norm2.length + headProj.length + proj.length)
                + level.length + 4L * (parent.length + page.length) + slot.length;
    }

    /** Offset of the node's key row in {@link #keys}. */
    int keyOff(int node) {
        return node * headDim;
    }
}
