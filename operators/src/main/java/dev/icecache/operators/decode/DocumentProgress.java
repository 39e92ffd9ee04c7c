package dev.icecache.operators.decode;

/**
 * Where one document stands, as keyed state stores it between elements (the KV pages are
 * stored apart, one map entry each). Together with the pages this is everything needed to
 * continue the document after a restore without recomputing its prefill.
 *
 * @param cacheLength positions in the KV cache (prompt tokens run, then generated tokens fed back;
 *                    with rolling summaries, their instructions and tokens in between)
 * @param heldTokens prompt tokens seen but not yet run (1 to {@link DocumentSession#PREFILL_BATCH}
 *                   of them; BOS at the start of a document): prefill runs whole engine batches
 *                   at positions aligned to the segment's origin, and the final chunk always has
 *                   a token whose logits start the generation. Right after a rolling summary: its
 *                   last token when not fed back yet, else none (see {@link RollingProgress})
 * @param promptTokens prompt tokens seen so far, BOS and the held token included
 * @param decoding true once the whole prompt is in and generation runs
 * @param nextToken when decoding: the token sampled but not yet emitted or fed back
 * @param generated tokens emitted so far (over all summaries of the document)
 * @param finished true when generation has ended (limit, EOS or context length); with
 *                 {@code decoding} false: the document was rejected (see {@link #rejected()})
 */
public record DocumentProgress(int cacheLength, int[] heldTokens, long promptTokens, boolean decoding,
                               int nextToken, int generated, boolean finished) {

    /**
     * A document whose prompt does not fit in the context: nothing is cached, and its further
     * chunks are only counted until the last one, which reports it.
     * NOTE: encoded as finished-without-decoding, a combination no running document has, so
     * the stored state keeps its schema.
     *
     * @param promptTokens prompt tokens seen so far, BOS included
     */
    public static DocumentProgress rejected(long promptTokens) {
        return new DocumentProgress(0, new int[0], promptTokens, false, -1, 0, true);
    }

    /**
     * A document rejected because alone it needs more heap than {@code icecache.memory.budget}
     * allows; like {@link #rejected(long)} (same schema), told apart by {@code nextToken == -2}.
     */
    public static DocumentProgress rejectedOverBudget(long promptTokens) {
        return new DocumentProgress(0, new int[0], promptTokens, false, -2, 0, true);
    }

    /** True for a document made by {@link #rejectedOverBudget(long)}. */
    public boolean overBudget() {
        return rejected() && nextToken == -2;
    }

    /** True for a document made by {@link #rejected(long)} or {@link #rejectedOverBudget(long)}. */
    public boolean rejected() {
        return finished && !decoding;
    }
}
