package dev.icecache.gpu.launch;

import dev.icecache.kvcache.page.PageLayout;

/**
 * The launch of {@code attention.cu}: one query position, every query head, over the pages a
 * {@link PageTable} lists per KV head (sink + selected + window), reading the pool in the
 * kvcache {@link PageLayout}.
 *
 * <pre>
 *   grid = (nHeads), block = 128;  query head qh reads KV head qh / group (GQA)
 *   row i of a KV head's list:  page e = i / rowsPerPage, row r = i % rowsPerPage (weight 0 when r &gt;= valid[e])
 *   K row: pool[slot * floatsPerPage + r * headDim ..]   V row: pool[slot * floatsPerPage + (rowsPerPage + r) * headDim ..]
 *   scratch att: [nHeads][maxPages * rowsPerPage] floats
 * </pre>
 *
 * @param nHeads query heads
 * @param nKvHeads KV heads (divides nHeads)
 * @param layout the page layout of the pool
 * @param maxPages most pages one KV head may list
 */
public record AttentionLaunch(int nHeads, int nKvHeads, PageLayout layout, int maxPages) {

    /** Threads per block. */
    public static final int THREADS = 128;

    public AttentionLaunch {
        if (layout == null || nKvHeads < 1 || nHeads < nKvHeads || nHeads % nKvHeads != 0) {
            throw new IllegalArgumentException("attention nHeads=" + nHeads + " nKvHeads=" + nKvHeads
                    + ": KV heads must divide query heads, layout must be given");
        }
        if (maxPages < 1 || (long) nHeads * maxPages * layout.rowsPerPage() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("attention maxPages=" + maxPages + " must be >= 1 and its scratch "
                    + "nHeads*maxPages*rowsPerPage must fit an int");
        }
    }

    /** Query heads per KV head. */
    public int group() {
        return nHeads / nKvHeads;
    }

    /** Grid and block. */
    public LaunchDims dims() {
        return LaunchDims.of(nHeads, 1, THREADS);
    }

    /** The KV head query head {@code qh} reads. */
    public int kvHeadOf(int qh) {
        return qh / group();
    }

    /** Float index in the pool of key row {@code row} of slot {@code slot}. */
    public long keyIndex(int slot, int row) {
        return (long) slot * layout.floatsPerPage() + layout.keyOffset(row);
    }

    /** Float index in the pool of value row {@code row} of slot {@code slot}. */
    public long valueIndex(int slot, int row) {
        return (long) slot * layout.floatsPerPage() + layout.valueOffset(row);
    }

    /** Floats of the score scratch. */
    public int scratchFloats() {
        return nHeads * maxPages * layout.rowsPerPage();
    }

    /** Index of (kvHead, page e) in the page tables. */
    public int tableIndex(int kvHead, int e) {
        return kvHead * maxPages + e;
    }

    /** The score scale 1/sqrt(headDim), computed as the CPU kernel does. */
    public float scale() {
        return (float) (1.0 / Math.sqrt(layout.headDim()));
    }
}
