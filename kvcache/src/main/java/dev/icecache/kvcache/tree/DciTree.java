package dev.icecache.kvcache.tree;

import java.util.function.IntFunction;

/**
 * The DCI tree of one (layer, KV head): a multi-level index over post-RoPE keys whose B+-tree
 * leaves are the pages of semantically similar keys (icecache.md "The tree").
 */
public final class DciTree {

    /** Sentinel page id: token not indexed / no source page (a new token in the move log). */
    public static final int NO_PAGE = -1;

    /**
     * An empty tree.
     *
     * @param headDim floats per key row
     * @param params tree and search parameters
     * @param projection the shared projection direction; its headDim must equal {@code headDim}
     */
    public DciTree(int headDim, DciParams params, Projection projection) {
        throw new UnsupportedOperationException("DciTree: not implemented yet");
    }

    /** Tokens indexed. */
    public int size() {
        throw new UnsupportedOperationException("DciTree.size");
    }

    /**
     * Indexes n new tokens: key rows {@code keys[keyOff + i*headDim ..]}, token ids (= positions)
     * {@code tokens[tokOff+i]}, strictly increasing and greater than every token already indexed.
     * On an empty tree this bulk-builds; afterwards it inserts in a batch (streaming growth).
     */
    public void add(float[] keys, int keyOff, int[] tokens, int tokOff, int n) {
        throw new UnsupportedOperationException("DciTree.add");
    }

    /** Page of {@code token}, or {@link #NO_PAGE} if not indexed. */
    public int pageOf(int token) {
        throw new UnsupportedOperationException("DciTree.pageOf");
    }

    /** Row of {@code token} inside its page, 0..pageSize-1. */
    public int slotOf(int token) {
        throw new UnsupportedOperationException("DciTree.slotOf");
    }

    /** Page ids are 0..pageIdLimit-1; some may be dead (size 0). */
    public int pageIdLimit() {
        throw new UnsupportedOperationException("DciTree.pageIdLimit");
    }

    /** Valid rows of {@code page} (0 for a dead id). */
    public int pageSize(int page) {
        throw new UnsupportedOperationException("DciTree.pageSize");
    }

    /** Tokens of {@code page} by slot ({@code out[slot] = token}); returns the page size. */
    public int pageTokens(int page, int[] out) {
        throw new UnsupportedOperationException("DciTree.pageTokens");
    }

    /** Moves (token -&gt; page, slot) recorded since the last drain. */
    public int pendingMoves() {
        throw new UnsupportedOperationException("DciTree.pendingMoves");
    }

    /**
     * Drains every (token -&gt; page, slot) assignment since the last drain, in the order made, new
     * tokens included (fromPage = NO_PAGE). Each array needs {@link #pendingMoves()} entries.
     */
    public void drainMoves(int[] token, int[] fromPage, int[] fromSlot, int[] toPage, int[] toSlot) {
        throw new UnsupportedOperationException("DciTree.drainMoves");
    }

    /**
     * Best distinct pages for one query row, best first; page score = best q.k among the keys
     * scored in it.
     *
     * @return the number of pages written (&lt;= maxPages)
     */
    public int search(float[] q, int qOff, int maxPages, int[] outPages, float[] outScores, SearchStats stats) {
        throw new UnsupportedOperationException("DciTree.search");
    }

    /** Copies the stored key row of {@code token} into {@code dst[dstOff..]} and returns dst. */
    public float[] key(int token, float[] dst, int dstOff) {
        throw new UnsupportedOperationException("DciTree.key");
    }

    /** Drains the ids of cells changed since the last drain into {@code out}; returns the count. */
    public int drainDirtyCells(int[] out) {
        throw new UnsupportedOperationException("DciTree.drainDirtyCells");
    }

    /** Cells changed since the last drain. */
    public int dirtyCellCount() {
        throw new UnsupportedOperationException("DciTree.dirtyCellCount");
    }

    /** Compact versioned bytes of one cell. */
    public byte[] cellBytes(int cell) {
        throw new UnsupportedOperationException("DciTree.cellBytes");
    }

    /** Rebuilds a tree from its cells' bytes ({@code cells.apply(id)}; null for an absent id). */
    public static DciTree restore(int headDim, DciParams params, Projection projection, IntFunction<byte[]> cells) {
        throw new UnsupportedOperationException("DciTree.restore");
    }

    /** Checks every structural invariant; throws AssertionError naming the first broken one. */
    void checkInvariants() {
        throw new UnsupportedOperationException("DciTree.checkInvariants");
    }
}
