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
 * @param segments contexts the document was read in when it did not fit one (segments, and
 *                 reduce steps with map-reduce); 0 for a document read in one context
 */
public record DocumentStats(long tokensIn, long tokensOut, long pagesMoved, double residentHitRate, double seconds,
                            int segments) {

    /** Figures of a document read in one context. */
    public DocumentStats(long tokensIn, long tokensOut, long pagesMoved, double residentHitRate, double seconds) {
        this(tokensIn, tokensOut, pagesMoved, residentHitRate, seconds, 0);
    }

    /** Placeholder on pieces that are not the last. */
    public static final DocumentStats NONE = new DocumentStats(0, 0, 0, 0.0, 0.0);
}
