package dev.icecache.kvcache.tree;

import dev.icecache.kvcache.Checks;
import java.util.Arrays;

/**
 * The nodes of one tree as a struct of arrays (style.md rule 6). Node ids are 0..size-1 in token
 * order: tokens arrive strictly increasing, so token -&gt; node is a binary search.
 *
 * <pre>
 *   token(node)          the token id (= position): firstToken + node while the tokens are
 *                        contiguous (the cache indexes every position past the sink in order), so
 *                        no table; an explicit token[] table from the first gap on
 *   codes[node*d + i]    the post-RoPE key row as int8 codes ({@link CompactKeys}), headDim bytes
 *   scale[node]          key = codes * scale
 *   norm2[node]          |key|^2 of the compact key (float; sum of codes^2 exact, times scale^2)
 *   proj[node]           the full projection under the M^2 of the cell that holds the node
 *   level[node]          0 = finest
 *   parent[node]         the node whose cell holds it, or ROOT for the top level
 *   page[node], slot[node]   where it sits (slot &lt; leafCapacity &lt;= 127)
 *   about 90 bytes per node at headDim 64 (was 597 with two float32 key copies and doubles)
 * </pre>
 *
 * NOTE: this is the only copy of a key in the tree. The search reads it by node id (one 64-byte
 * row per key at headDim 64); u.k (the head part of the projection) is recomputed from the codes
 * when a cell's M^2 changes instead of being stored.
 */
final class Nodes {

    /** parent[] sentinel: the node is a child of the virtual root. */
    static final int ROOT = -1;
    /** Most nodes one tree holds, so that cell ids (node + 1) &lt;&lt; 2 fit an int. */
    static final int MAX_NODES = (1 << 28) - 1;

    final int headDim;
    int size;
    private int firstToken;             // token of node 0 while contiguous
    private int[] token;                // null while contiguous
    byte[] codes = new byte[0];
    float[] scale = new float[0];
    float[] norm2 = new float[0];
    double[] proj = new double[0];
    byte[] level = new byte[0];
    int[] parent = new int[0];
    int[] page = new int[0];
    byte[] slot = new byte[0];

    Nodes(int headDim) {
        this.headDim = headDim;
    }

    /** Nodes the tables hold without growing. */
    int capacity() {
        return level.length;
    }

    /** The token id of {@code node} (0 &lt;= node &lt; size). */
    int token(int node) {
        return token == null ? firstToken + node : token[node];
    }

    /**
     * Makes room for {@code more} nodes beyond size; grows by 1/8. NOTE: not 1.5x: a tree's tables are
     * about 110 bytes per node and a document has 112 trees on Llama-3.2-1B, so 1.5x left up to a third
     * of the index unused (measured: 101 instead of 68 key bytes per token at 16k); copies stay
     * amortized O(1) per node (about 8 node copies per doubling).
     */
    void ensureCapacity(int more) {
        long need = (long) size + more;
        Checks.checkArgument(need <= MAX_NODES, "a DCI tree holds at most %d tokens; size=%d adding=%d",
                MAX_NODES, size, more);
        if (need <= level.length) {
            return;
        }
        int cap = (int) Math.min(MAX_NODES, Math.max(need, Math.max(16L, level.length + (level.length >> 3))));
        if (token != null) {
            token = Arrays.copyOf(token, cap);
        }
        codes = Arrays.copyOf(codes, Math.multiplyExact(cap, headDim));
        scale = Arrays.copyOf(scale, cap);
        norm2 = Arrays.copyOf(norm2, cap);
        proj = Arrays.copyOf(proj, cap);
        level = Arrays.copyOf(level, cap);
        parent = Arrays.copyOf(parent, cap);
        page = Arrays.copyOf(page, cap);
        slot = Arrays.copyOf(slot, cap);
    }

    /** Appends one node, quantizing its key row (capacity ensured by the caller); returns its id. */
    int append(int tok, float[] src, int srcOff, int lvl) {
        int node = size;
        scale[node] = CompactKeys.quantize(src, srcOff, headDim, codes, keyOff(node));
        return appended(tok, lvl);
    }

    /** Appends one node whose key is already compact (snapshot restore); returns its id. */
    int appendCompact(int tok, byte[] src, int srcOff, float rowScale, int lvl) {
        int node = size;
        System.arraycopy(src, srcOff, codes, keyOff(node), headDim);
        scale[node] = rowScale;
        return appended(tok, lvl);
    }

    private int appended(int tok, int lvl) {
        int node = size++;
        if (node == 0) {
            firstToken = tok;
        } else if (token == null && tok != firstToken + node) {
            token = new int[level.length];
            for (int x = 0; x < node; x++) {
                token[x] = firstToken + x;
            }
        }
        if (token != null) {
            token[node] = tok;
        }
        norm2[node] = norm2(codes, keyOff(node), scale[node], headDim);
        level[node] = (byte) lvl;
        parent[node] = ROOT;
        page[node] = DciTree.NO_PAGE;
        return node;
    }

    /** |key|^2 of a compact row: the exact sum of codes^2 times scale^2, rounded once to float. */
    static float norm2(byte[] codes, int off, float scale, int d) {
        return (float) (CompactKeys.codeDot(codes, off, off, d) * ((double) scale * scale));
    }

    /** Element {@code i} of the node's key (code * scale). */
    float key(int node, int i) {
        return codes[keyOff(node) + i] * scale[node];
    }

    /** The node holding {@code tok}, or -1. */
    int nodeOf(int tok) {
        if (token == null) {
            long x = (long) tok - firstToken;
            return x >= 0 && x < size ? (int) x : -1;
        }
        int i = Arrays.binarySearch(token, 0, size, tok);
        return i >= 0 ? i : -1;
    }

    /** Bytes of the token table: 0 while the tokens are contiguous. */
    long tokenBytes() {
        return token == null ? 0 : 4L * token.length;
    }

    /** Heap bytes of the node arrays (their capacity, not only {@link #size}). */
    long retainedBytes() {
        return tokenBytes() + codes.length + 4L * scale.length + 4L * norm2.length + 8L * proj.length
                + level.length + 4L * (parent.length + page.length) + slot.length;
    }

    /** Offset of the node's key row in {@link #codes}. */
    int keyOff(int node) {
        return node * headDim;
    }
}
