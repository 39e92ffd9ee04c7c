package dev.icecache.gpu.launch;

/**
 * The launch of {@code paged_attention_prefill} (attention.cu): causal attention of a block of
 * query positions {@code p0 .. p0+queries-1} over one {@link PageTable} shared by the block (one
 * selection per KV head per block, not per position), so a prefill chunk is one launch per layer.
 *
 * <pre>
 *   grid = (nHeads, queries), block = 128
 *   query t, head qh:   q[(t * nHeads + qh) * headDim ..], out likewise
 *   row r of page e is seen by query t when r &lt; valid[e] and (first[e] &lt; 0 or first[e] + r &lt;= p0 + t)
 *   scratch att: [queries][nHeads][maxPages * rowsPerPage] floats
 * </pre>
 *
 * @param attention the per-position launch whose geometry (heads, layout, table size) this shares
 * @param queries query positions in the block (1 .. 65535, the grid's y limit)
 */
public record PrefillAttentionLaunch(AttentionLaunch attention, int queries) {

    public PrefillAttentionLaunch {
        if (attention == null || queries < 1 || queries > LaunchDims.MAX_GRID_YZ) {
            throw new IllegalArgumentException("prefill attention queries=" + queries + " must be in [1, "
                    + LaunchDims.MAX_GRID_YZ + "] with an attention launch given");
        }
        if ((long) queries * attention.scratchFloats() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("prefill attention scratch of queries=" + queries + " x "
                    + attention.scratchFloats() + " floats must fit an int; use smaller blocks");
        }
    }

    /** Grid and block. */
    public LaunchDims dims() {
        return LaunchDims.of(attention.nHeads(), queries, AttentionLaunch.THREADS);
    }

    /** Float index of (query t, head qh)'s row in q and out. */
    public long rowIndex(int t, int qh) {
        return ((long) t * attention.nHeads() + qh) * attention.layout().headDim();
    }

    /** Floats of the score scratch. */
    public long scratchFloats() {
        return (long) queries * attention.scratchFloats();
    }

    /** Whether query {@code t} (at p0 + t) sees row {@code r} of page {@code e} of KV head {@code kvh}. */
    public static boolean sees(PageTable table, int kvh, int e, int r, int position) {
        int first = table.first(kvh, e);
        return r < table.rows(kvh, e) && (first < 0 || first + r <= position);
    }
}
