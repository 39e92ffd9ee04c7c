package dev.icecache.job.inspect;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.ModelConfig;
import dev.icecache.operators.config.IceCacheOptions;
import dev.icecache.operators.decode.DocumentAdmission;

/**
 * What a model's KV cache costs, per token and for a whole context, with the full cache and with
 * IceCache's bounded resident pool.
 *
 * <pre>
 *   kvBytesPerToken = 2 (K and V) x layers x kvHeads x headDim x bytesPerFloat
 *   full cache      = context x kvBytesPerToken
 *   IceCache        = denseLayers x context x perLayer + sparseLayers x min(budget, context) x perLayer
 *                     (resident pool only; every page also lives in Flink keyed state)
 *   live heap/token = what the decoder's icecache.memory.budget counts per position of a live
 *                     document: dense rows plus one index node and key copy per sparse (layer, KV head)
 *   state/token     = keyed state (RocksDB) per position: K and V in every layer, as stored (BF16 by
 *                     default), plus the index node chunk entry (token, level, scale, int8 key) and
 *                     its child-index row per sparse (layer, KV head)
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

    /** Heap per position of a live IceCache document ({@link DocumentAdmission#bytesPerToken}), the budget's unit. */
    public long liveHeapBytesPerToken(int denseLayers) {
        return DocumentAdmission.bytesPerToken(new CacheShape(layers, kvHeads, kvHeads, headDim, 1),
                CacheConfig.of(Policy.ICECACHE, IceCacheOptions.BUDGET_TOKENS.defaultValue()).withDenseLayers(
                        Math.min(denseLayers, layers)));
    }

    /**
     * Keyed-state bytes per position of an IceCache document: the pages (K and V of every layer in
     * the default page format, as PageSerializer v2 stores them, plus a 16-byte entry header per
     * 16-row page) and, per sparse (layer, KV head), the node chunk entry (int token, byte level,
     * float scale, headDim int8 codes) and the node's int in its parent's child-index cell.
     */
    public long stateBytesPerToken(int denseLayers) {
        int sparse = layers - Math.min(denseLayers, layers);
        long pages = kvBytesPerToken(CacheConfig.DEFAULT_PAGE_FORMAT)
                + (long) layers * kvHeads * 16 / CacheConfig.PAGE_ROWS;
        long chunks = (long) sparse * kvHeads * (4 + 1 + 4 + headDim + 4L);
        return pages + chunks;
    }
}
