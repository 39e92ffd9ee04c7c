package dev.icecache.operators.decode;

/**
 * Where a document's rolling summaries stand, kept in keyed state beside its
 * {@link DocumentProgress} only when rolling summaries are on (state written before they
 * existed has none, and {@link #derivedFrom} stands in for it).
 *
 * <pre>
 *   position: 0     batchOrigin                                    cacheLength
 *             | BOS doc... instr summary | lastSummaryToken doc... |
 *                                         ^ prefill batches end at batchOrigin + k * PREFILL_BATCH
 * </pre>
 *
 * @param nextSummaryAt document tokens read (BOS excluded) at or after which the next chunk
 *                      boundary starts a rolling summary
 * @param batchOrigin the position the current prefill segment started at: 0, or where the last
 *                    rolling summary ended; prefill batches are aligned to it as one engine
 *                    prefill call from there would align them
 * @param summarizing true while a rolling summary is decoded (chunks then wait in keyed state)
 * @param generatedBefore tokens generated before the summary now being decoded began, so that
 *                        {@code generated - generatedBefore} counts the current summary's tokens
 */
public record RollingProgress(long nextSummaryAt, int batchOrigin, boolean summarizing, int generatedBefore) {

    /**
     * The progress of a document whose state holds none: a new one, one stored with rolling
     * summaries off, or one stored before they existed. Nothing was summarized yet, so batches
     * are aligned to position 0 and every generated token belongs to the final summary; the next
     * rolling summary is due at the first multiple of {@code every} beyond what was read.
     *
     * @param every the rolling interval in document tokens, 0 when off
     */
    public static RollingProgress derivedFrom(DocumentProgress progress, int every) {
        long read = Math.max(0, progress.promptTokens() - 1);
        long next = every == 0 ? Long.MAX_VALUE : (read / every + 1) * every;
        return new RollingProgress(next, 0, false, 0);
    }
}
