package dev.icecache.bench.speed;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.tree.Projection;
import java.util.SplittableRandom;

/**
 * The cache each benchmarked policy runs on: {@link FullCache} for FULL (the plain baseline,
 * not a paged cache holding everything), otherwise a {@link PagedKvCache} at the reference
 * configuration ({@link CacheConfig#of}, BF16 rows) over an in-memory page store of that format.
 */
public final class PolicyCaches {

    private PolicyCaches() {
    }

    /**
     * A new empty cache of {@code policy}.
     *
     * @param budgetTokens resident tokens per sparse (layer, KV head); ignored for FULL
     * @param seed seeds the IceCache projection direction
     */
    public static KvCache create(Policy policy, CacheShape shape, int budgetTokens, long seed) {
        if (policy == Policy.FULL) {
            return new FullCache(shape);
        }
        CacheConfig config = CacheConfig.of(policy, budgetTokens);
        InMemoryPageStore store = new InMemoryPageStore(PageLayout.of(shape.headDim()), config.pageFormat());
        return new PagedKvCache(shape, config, store, new Projection(shape.headDim(), new SplittableRandom(seed)));
    }

    /** Layers that must attend once per chunk while filling, so a paged cache commits it. */
    public static int attendFromLayer(KvCache cache) {
        return cache instanceof PagedKvCache p ? p.config().denseLayers() : cache.shape().nLayers();
    }
}
