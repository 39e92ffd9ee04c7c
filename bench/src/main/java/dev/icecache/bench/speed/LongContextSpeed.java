package dev.icecache.bench.speed;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.metrics.CacheCounters;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.Session;
import java.util.function.IntConsumer;

/**
 * Per-token decode latency of one model at one context length under one policy: the cache is
 * filled with {@link SyntheticContext} rows up to the context, then single-token steps are timed
 * and split ({@link DecodeTimer}).
 */
public final class LongContextSpeed {

    /**
     * One measured (context, policy) point.
     *
     * @param context positions in the cache before the first timed step
     * @param policy the policy
     * @param steps the measured steps
     * @param fillSeconds time to fill the cache synthetically (building the index included)
     * @param residentBytes bytes of the resident pool (paged caches) or of every K/V row (Full, F32)
     */
    public record Point(int context, Policy policy, StepSplit[] steps, double fillSeconds, long residentBytes) {

        /** The split of the median step. */
        public StepSplit median() {
            return DecodeTimer.medianStep(steps);
        }
    }

    private final LlamaModel model;
    private final int budgetTokens;
    private final long seed;

    /** Measures {@code model} with caches of {@code budgetTokens} tokens (sparse policies). */
    public LongContextSpeed(LlamaModel model, int budgetTokens, long seed) {
        this.model = model;
        this.budgetTokens = budgetTokens;
        this.seed = seed;
    }

    /**
     * Fills a fresh cache to {@code context} positions and times {@code warmup} + {@code steps} decode steps.
     *
     * @throws IllegalArgumentException when context + warmup + steps exceeds the model's context length
     */
    public Point measure(int context, Policy policy, int warmup, int steps, IntConsumer fillProgress) {
        CacheShape shape = model.cacheShape();
        if ((long) context + warmup + steps > shape.maxTokens()) {
            throw new IllegalArgumentException("context=" + context + " + " + (warmup + steps) + " steps exceeds the"
                    + " model's context length=" + shape.maxTokens() + "; load the model with a larger context");
        }
        KvCache cache = PolicyCaches.create(policy, shape, budgetTokens, seed);
        long t0 = System.nanoTime();
        new SyntheticContext(shape, seed).fill(cache, context, PolicyCaches.attendFromLayer(cache), fillProgress);
        double fillSeconds = (System.nanoTime() - t0) / 1e9;
        TimedKvCache timed = new TimedKvCache(cache);
        Session session = model.newSession(timed);
        CacheCounters metrics = cache instanceof PagedKvCache p ? p.metrics() : CacheCounters.NONE;
        StepSplit[] split = DecodeTimer.run(session, timed, metrics, warmup, steps);
        long resident = cache instanceof PagedKvCache p ? p.poolBytes() + denseBytes(p, context)
                : fullBytes(shape, context);
        cache.close();
        return new Point(context, policy, split, fillSeconds, resident);
    }

    /** F32 bytes of every K and V row of a full cache at {@code context} positions. */
    static long fullBytes(CacheShape shape, int context) {
        return 2L * 4 * shape.nLayers() * shape.kvDim() * context;
    }

    /** F32 bytes of the dense layers' rows, which a paged cache keeps whole. */
    static long denseBytes(PagedKvCache cache, int context) {
        CacheShape s = cache.shape();
        return 2L * 4 * cache.config().denseLayers() * s.kvDim() * context;
    }
}
