package dev.icecache.operators.output;

/**
 * Per-document figures reported on the last piece and as metrics.
 *
 * @param tokensIn document tokens prefilled into the model (prompt template tokens excluded)
 * @param tokensOut tokens generated
 * @param pagesMoved KV pages copied from the slow tier into the resident pool
 * @param residentHitRate share of selected pages that were already resident, in [0, 1]
 * @param seconds wall-clock seconds from the document's first chunk to its last piece,
 *                summed over attempts (time lost to a failure is not counted)
 */
public record DocumentStats(long tokensIn, long tokensOut, long pagesMoved, double residentHitRate, double seconds) {

    /** Placeholder on pieces that are not the last. */
    public static final DocumentStats NONE = new DocumentStats(0, 0, 0, 0.0, 0.0);
}
