package dev.icecache.bench.fidelity;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.metrics.CacheCounters;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.select.IceCacheSelector;
import dev.icecache.kvcache.tree.Projection;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.Session;
import java.util.SplittableRandom;

/**
 * Teacher-forced fidelity of cache policies on one model and one token sequence: every run
 * steps the same tokens one position at a time, so every policy is compared at the same
 * positions with the same inputs (evaluation.md "Fidelity of a cache policy").
 *
 * <pre>
 *   tokens[0 .. positions)    stepped (tokens[0] is BOS)
 *   tokens[positions]         when present, the true next token of the last position (perplexity)
 *   reference                 FullCache logits at every position
 *   policy run                PagedKvCache(policy, budget) inside a KeyRecordingCache, compared
 *                             position by position; AttentionRecall scores every sparse attend
 * </pre>
 */
public final class FidelityRun {

    private final LlamaModel model;
    private final int[] tokens;
    private final int positions;
    private final float[][] reference;

    /**
     * Runs the full-cache reference over {@code tokens[0..positions)}.
     *
     * @param tokens the token sequence; may hold one more token than {@code positions} (the last one's next)
     * @param positions positions to step, 1 .. context length
     */
    public FidelityRun(LlamaModel model, int[] tokens, int positions) {
        int context = model.cacheShape().maxTokens();
        if (positions < 1 || positions > tokens.length || positions > context) {
            throw new IllegalArgumentException("positions=" + positions + " must be within [1, min(tokens="
                    + tokens.length + ", context=" + context + ")]; shorten --tokens or raise --context");
        }
        this.model = model;
        this.tokens = tokens.clone();
        this.positions = positions;
        this.reference = new float[positions][];
        Session session = model.newSession(new FullCache(model.cacheShape()));
        for (int p = 0; p < positions; p++) {
            reference[p] = session.step(tokens[p]).clone();
        }
    }

    /** Positions stepped per run. */
    public int positions() {
        return positions;
    }

    /** The full cache's logits at {@code position} (read only). */
    public float[] referenceLogits(int position) {
        return reference[position];
    }

    /**
     * The paged cache a policy benchmark runs: {@code config} over an in-memory page store of the
     * config's format, with the IceCache projection direction drawn from {@code seed}.
     */
    public static PagedKvCache newPagedCache(CacheShape shape, CacheConfig config, long seed) {
        return new PagedKvCache(shape, config, new InMemoryPageStore(PageLayout.of(shape.headDim()), config.pageFormat()),
                new Projection(shape.headDim(), new SplittableRandom(seed)));
    }

    /**
     * Steps the sequence through a {@link PagedKvCache} of {@code config} and compares it with
     * the reference.
     *
     * @param topK k of the top-k token recall
     * @param seed seed of the IceCache projection direction
     * @param diagnose also run a {@link PageDiagnosis} (own-page and positional oracles, concentration, spread)
     */
    public FidelityResult measure(CacheConfig config, int topK, long seed) {
        return measure(config, topK, seed, 1, false);
    }

    /** As {@link #measure(CacheConfig, int, long)}, with the page diagnosis when {@code diagnose}. */
    public FidelityResult measure(CacheConfig config, int topK, long seed, boolean diagnose) {
        return measure(config, topK, seed, 1, diagnose);
    }

    /**
     * As {@link #measure(CacheConfig, int, long, boolean)}, with the policy run prefilling blocks of
     * {@code prefillBlock} positions ({@code Session.prefill}, so a sparse policy selects pages once
     * per forward pass of up to {@code Session.PREFILL_BATCH} positions) and compared with the
     * reference at every position ({@code Session.prefillEveryLogits}); 1 steps every position.
     */
    public FidelityResult measure(CacheConfig config, int topK, long seed, int prefillBlock, boolean diagnose) {
        if (prefillBlock < 1) {
            throw new IllegalArgumentException("prefillBlock=" + prefillBlock + " must be >= 1");
        }
        long start = System.nanoTime();
        PagedKvCache cache = newPagedCache(model.cacheShape(), config, seed);
        KeyRecordingCache recorder = new KeyRecordingCache(cache);
        AttentionRecall recall = new AttentionRecall(recorder, config, topK);
        PageDiagnosis diagnosis = diagnose ? new PageDiagnosis(recorder, cache.selector(), config, recall, topK) : null;
        if (diagnosis == null) {
            cache.observeAttendedPositions(recall);
        } else {
            cache.observeAttendedPositions((layer, kvHead, position, attended, count) -> {
                recall.accept(layer, kvHead, position, attended, count);
                diagnosis.accept(layer, kvHead, position, attended, count);
            });
        }
        LogitComparison all = new LogitComparison();
        LogitComparison overBudget = new LogitComparison();
        Session session = model.newSession(recorder);
        float[][] every = prefillBlock > 1 ? new float[prefillBlock][model.config().vocabSize()] : null;
        for (int first = 0; first < positions; first += prefillBlock) {
            int n = Math.min(prefillBlock, positions - first);
            if (n == 1) {
                compare(first, session.step(tokens[first]), config, all, overBudget);
            } else {
                session.prefillEveryLogits(tokens, first, n, every);
                for (int t = 0; t < n; t++) {
                    compare(first + t, every[t], config, all, overBudget);
                }
            }
        }
        if (diagnosis != null) {
            diagnosis.measureSpread(positions);
        }
        recorder.close();
        CacheCounters m = cache.metrics();
        double movedPerStep = m.steps() == 0 ? 0 : (double) m.pagesMoved() / m.steps();
        double semanticShare = Double.NaN;
        if (cache.selector() instanceof IceCacheSelector ice && ice.selectedPages() > 0) {
            semanticShare = 1.0 - (double) ice.selectedRecentPages() / ice.selectedPages();
        }
        return new FidelityResult(config.policy(), config.budgetTokens(),
                FidelityMetrics.of(all, recall.all()), FidelityMetrics.of(overBudget, recall.overBudget()),
                recall.all().rowsUseful(), movedPerStep, m.hitRate(), (System.nanoTime() - start) / 1e9, diagnosis,
                semanticShare);
    }

    /** Position p's logits against the reference's (and, past the budget, in the over-budget tally too). */
    private void compare(int p, float[] logits, CacheConfig config, LogitComparison all, LogitComparison overBudget) {
        int next = p + 1 < tokens.length ? tokens[p + 1] : -1;
        all.add(reference[p], logits, next);
        if (p + 1 > config.budgetTokens()) {
            overBudget.add(reference[p], logits, next);
        }
    }
}
