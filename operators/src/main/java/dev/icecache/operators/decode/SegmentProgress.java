package dev.icecache.operators.decode;

/**
 * Where a document read in segments stands, kept in keyed state beside its
 * {@link DocumentProgress} (state version 3; documents that fit one context, and state written
 * before segments existed, have none: {@link #START} stands in for it). A Flink POJO (record).
 *
 * <pre>
 *   READING    the current context is being prefilled with segment text
 *   CLOSING    the segment is closed: its summary is decoded (refine: the new running summary;
 *              map-reduce: the segment's own), then the context restarts
 *   REDUCING   map-reduce after the last segment: a summary of a group of summaries is decoded
 * </pre>
 *
 * @param segment contexts the document has used before the current one (segments and reduce steps)
 * @param phase see above
 * @param segmentText document tokens prefilled into the current segment
 * @param summary tokens of the summary being decoded (or, at a restart, the one just ended)
 * @param done map-reduce: summaries made at the current level, back to back
 * @param doneLengths the lengths of the summaries in {@code done}
 * @param pending map-reduce, when reducing: summaries of the previous level not yet read
 * @param pendingLengths the lengths of the summaries in {@code pending}
 * @param level map-reduce: 0 while reading segments, then 1, 2, ... per level of summaries of summaries
 * @param finalStep map-reduce, when reducing: the step being decoded gives the final summary
 * @param pagesMovedBefore KV pages moved in earlier contexts (statistics)
 */
public record SegmentProgress(int segment, Phase phase, long segmentText, int[] summary, int[] done,
                              int[] doneLengths, int[] pending, int[] pendingLengths, int level, boolean finalStep,
                              long pagesMovedBefore) {

    /** Phase of a document read in segments. */
    public enum Phase {
        /** Prefilling segment text. */
        READING,
        /** Decoding the summary that closes a segment. */
        CLOSING,
        /** Decoding a summary of summaries (map-reduce). */
        REDUCING
    }

    /**
     * Where the document stands, for logs and {@code inspect-state}: "segment 3 reading",
     * "segment 4 closing", "reduce level 1 step 7 (final)" (the step counts contexts used).
     */
    public String describe() {
        return switch (phase) {
            case READING -> "segment " + segment + " reading";
            case CLOSING -> "segment " + segment + " closing";
            case REDUCING -> "reduce level " + level + " step " + segment + (finalStep ? " (final)" : "");
        };
    }

    /** A document in its first context, reading. */
    public static final SegmentProgress START = new SegmentProgress(0, Phase.READING, 0, new int[0], new int[0],
            new int[0], new int[0], new int[0], 0, false, 0);
}
