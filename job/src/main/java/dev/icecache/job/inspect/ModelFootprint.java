package dev.icecache.job.inspect;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.model.ModelConfig;

/**
 * What a model's KV cache costs, per token and for a whole context, with the full cache and with
 * IceCache's bounded resident pool.
 *
 * <pre>
 *   kvBytesPerToken = 2 (K and V) x layers x kvHeads x headDim x bytesPerFloat
 *   full cache      = context x kvBytesPerToken
 *   IceCache        = denseLayers x context x perLayer + sparseLayers x min(budget, context) x perLayer
 *                     (resident pool only; every page also lives in Flink keyed state)
 * </pre>
 *
 * @param layers transformer blocks
 * @param kvHeads key/value heads
 * @param headDim floats per head
 */
public record ModelFootprint(int layers, int kvHeads, int headDim) {

    /** The footprint of {@code config}'s cache. */
    public static ModelFootprint of(ModelConfig config) {
        return new ModelFootprint(config.nLayers(), config.nKvHeads(), config.headDim());
    }

    /** Bytes of K and V one position takes in one layer, stored as {@code format}. */
    public long kvBytesPerTokenPerLayer(PageFormat format) {
        return 2L * kvHeads * headDim * format.bytesPerFloat();
    }

    /** Bytes of K and V one position takes across all layers, stored as {@code format}. */
    public long kvBytesPerToken(PageFormat format) {
        return layers * kvBytesPerTokenPerLayer(format);
    }

    /** Bytes of the full KV cache at {@code context} positions. */
    public long fullCacheBytes(long context, PageFormat format) {
        return Math.multiplyExact(context, kvBytesPerToken(format));
    }

    /**
     * Resident bytes of IceCache's pool at {@code context} positions: dense layers keep every
     * position, the others at most {@code budgetTokens} (float32, as resident pages always are).
     */
    public long iceCacheResidentBytes(long context, int budgetTokens, int denseLayers) {
        int dense = Math.min(denseLayers, layers);
        long perLayer = kvBytesPerTokenPerLayer(PageFormat.F32);
        return dense * context * perLayer + (long) (layers - dense) * Math.min(budgetTokens, context) * perLayer;
    }
}
