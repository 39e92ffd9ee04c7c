package dev.icecache.kvcache;

/**
 * The shape of one sequence's KV cache, as the model sees it.
 *
 * <pre>
 *   nLayers   transformer layers, each with its own cache
 *   nHeads    query heads per layer
 *   nKvHeads  key/value heads per layer (grouped-query attention: nHeads % nKvHeads == 0)
 *   headDim   floats per head row
 *   maxTokens the most positions the sequence may reach (context length)
 * </pre>
 *
 * @param nLayers transformer layers (&gt; 0)
 * @param nHeads query heads per layer (&gt; 0)
 * @param nKvHeads key/value heads per layer (&gt; 0, divides nHeads)
 * @param headDim floats per head (&gt; 0)
 * @param maxTokens positions the sequence may reach (&gt; 0)
 */
public record CacheShape(int nLayers, int nHeads, int nKvHeads, int headDim, int maxTokens) {

    public CacheShape {
        Checks.checkArgument(nLayers > 0, "nLayers=%d must be > 0", nLayers);
        Checks.checkArgument(nHeads > 0, "nHeads=%d must be > 0", nHeads);
        Checks.checkArgument(nKvHeads > 0 && nHeads % nKvHeads == 0,
                "nKvHeads=%d must be > 0 and divide nHeads=%d", nKvHeads, nHeads);
        Checks.checkArgument(headDim > 0, "headDim=%d must be > 0", headDim);
        Checks.checkArgument(maxTokens > 0, "maxTokens=%d must be > 0", maxTokens);
    }

    /** Query heads that share one KV head. */
    public int groupSize() {
        return nHeads / nKvHeads;
    }

    /** Floats of one position's K (or V) across all KV heads of a layer. */
    public int kvDim() {
        return nKvHeads * headDim;
    }

    /** Floats of one position's query across all heads of a layer. */
    public int qDim() {
        return nHeads * headDim;
    }
}
