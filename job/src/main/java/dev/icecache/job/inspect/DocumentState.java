package dev.icecache.job.inspect;

/**
 * What the decoder's keyed state holds for one document, as {@code inspect-state} reports it.
 * Byte counts are serialized value sizes (keys and backend overhead excluded).
 *
 * @param docId the document id (the state key)
 * @param phase {@code prefill}, {@code decode}, {@code done}, {@code rejected} (its prompt does
 *              not fit in the context; only counted until its last chunk), or {@code unknown}
 *              when the document value is missing
 * @param position positions in the KV cache: prompt tokens run, then generated tokens fed back
 * @param promptTokens prompt tokens seen (BOS included), run or held
 * @param heldTokens prompt tokens seen but not yet run
 * @param generated tokens generated so far
 * @param pieces text pieces emitted so far
 * @param recordedPages the page count the document value records
 * @param pages entries in the page map state
 * @param pageBytes serialized bytes of those pages as the cache reads them: each whole, its patch
 *                  (rows changed since it was stored whole) applied
 * @param pageRows K/V rows in those pages, summed over layers and KV heads
 * @param patches entries in the page-patch map state (pages stored with a patch beside them)
 * @param patchBytes serialized bytes of those patches (what they add to the pages' whole blocks)
 * @param headerBytes bytes of the cache header in the document value (0 for the FULL policy)
 * @param cells entries in the index-cell map state
 * @param cellBytes bytes of those cells
 * @param trees index trees (one header cell each)
 * @param nodes tree nodes listed by the node-chunk cells
 * @param nodesPerLevel nodes per tree level, index = level, summed over trees
 * @param segment for a document read in segments (longer than the context), where it stands:
 *                "segment 3 reading", "segment 4 closing", "reduce level 1 step 7"; empty otherwise
 */
public record DocumentState(String docId, String phase, long position, long promptTokens, long heldTokens,
                            long generated, long pieces, long recordedPages, long pages, long pageBytes, long pageRows,
                            long patches, long patchBytes,
                            long headerBytes, long cells, long cellBytes, long trees, long nodes,
                            long[] nodesPerLevel, String segment) implements java.io.Serializable {

    /** Tree levels in use: one more than the highest level with a node, 0 without trees. */
    public int levels() {
        for (int l = nodesPerLevel.length - 1; l >= 0; l--) {
            if (nodesPerLevel[l] > 0) {
                return l + 1;
            }
        }
        return 0;
    }

    /** Bytes of pages, their patches, cells and cache header together. */
    public long totalBytes() {
        return pageBytes + patchBytes + cellBytes + headerBytes;
    }
}
