package dev.icecache.bench.retrieval;

import dev.icecache.bench.fidelity.FidelityRun;
import dev.icecache.bench.fidelity.KeyRecordingCache;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.Sampler;
import dev.icecache.model.Session;

/**
 * One haystack through one policy cache, as a user's request would run: the prompt but its last
 * token prefilled in batches, then the last prompt token as the first decode step (the first
 * answer step, observed by {@link NeedleFetch}), then greedy decoding of as many tokens as the
 * planted value has.
 *
 * <pre>
 *   prefill prompt[0 .. n-1)           batches of Session.PREFILL_BATCH, the policy attends as it goes
 *   step prompt[n-1]    -> answer[0]   observed: which value positions each sparse stream attended
 *   step answer[i-1]    -> answer[i]   i = 1 .. answer.length-1, greedy
 * </pre>
 */
public final class RetrievalRun {

    private RetrievalRun() {
    }

    /**
     * What one run answered and fetched.
     *
     * @param answer the greedy answer, as many tokens as the planted value
     * @param fetchShare mean over sparse streams of the share of the value's positions attended
     * @param fetchedAll share of sparse streams that attended every position of the value
     * @param needleMass mean over sparse query heads of the exact softmax share on the value
     */
    public record Attempt(int[] answer, double fetchShare, double fetchedAll, double needleMass) {
    }

    /**
     * Runs {@code haystack} through a fresh cache of {@code config}.
     *
     * @param seed seed of the IceCache projection direction
     * @throws IllegalArgumentException when the prompt plus its answer exceeds the model's context
     */
    public static Attempt run(LlamaModel model, Haystack haystack, CacheConfig config, long seed) {
        int n = haystack.length();
        int[] expected = haystack.answer();
        if ((long) n + expected.length - 1 > model.cacheShape().maxTokens()) {
            throw new IllegalArgumentException("prompt of " + n + " tokens plus its " + expected.length
                    + "-token answer exceeds the context length=" + model.cacheShape().maxTokens());
        }
        PagedKvCache cache = FidelityRun.newPagedCache(model.cacheShape(), config, seed);
        KeyRecordingCache recorder = new KeyRecordingCache(cache);
        try {
            Session session = model.newSession(recorder);
            int[] prompt = haystack.prompt();
            session.prefill(prompt, 0, n - 1, false);
            NeedleFetch fetch = new NeedleFetch(recorder, haystack.valueStart(), haystack.valueEnd(), n - 1);
            cache.observeAttendedPositions(fetch);
            float[] logits = session.step(prompt[n - 1]);
            cache.observeAttendedPositions(null);
            Sampler greedy = new Sampler(0f, 1f, 0);
            int[] answer = new int[expected.length];
            answer[0] = greedy.sample(logits);
            for (int i = 1; i < answer.length; i++) {
                answer[i] = greedy.sample(session.step(answer[i - 1]));
            }
            return new Attempt(answer, fetch.fetchShare(), fetch.fetchedAll(), fetch.needleMass());
        } finally {
            recorder.close();
        }
    }
}
