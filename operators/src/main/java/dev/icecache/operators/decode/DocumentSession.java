package dev.icecache.operators.decode;

import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.KvCache;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.Sampler;
import dev.icecache.model.Session;

/**
 * One document's run through the model, independent of Flink: prefill chunk by chunk, then
 * generate in slices. The Flink decoder only moves {@link DocumentProgress} and KV pages in and
 * out of keyed state around these calls.
 *
 * <pre>
 *   prompt  = BOS, chunk 0 tokens, chunk 1 tokens, ..., last chunk tokens
 *   prefill: each chunk runs [held token, all but its own last token]; its last token is held
 *            the last chunk runs [held token, all its tokens] and yields the first logits
 *   decode:  t = sample(logits); stop on EOS or maxTokens; emit t; logits = step(t); ...
 * </pre>
 *
 * This is exactly the engine's plain loop (prefill the whole prompt, then sample/step), split at
 * element boundaries; sampling uses a seed per (document, step), so it is the same after a
 * restore. Not thread-safe.
 */
public final class DocumentSession {

    private final Session session;
    private final GenerationSettings settings;
    private final long documentSeed;
    private final int eos;
    private final Sampler greedy;
    private int heldToken;
    private long promptTokens;
    private boolean decoding;
    private int nextToken;
    private int generated;
    private boolean finished;
    private int[] scratch = new int[0];

    private DocumentSession(LlamaModel model, KvCache cache, GenerationSettings settings, long documentSeed,
                            DocumentProgress progress) {
        Checks.checkArgument(cache.length() == progress.cacheLength(),
                "cache holds %d positions but the document's progress says %d; state is inconsistent",
                cache.length(), progress.cacheLength());
        this.session = model.newSession(cache);
        this.settings = settings;
        this.documentSeed = documentSeed;
        this.eos = model.vocabulary().eos();
        this.greedy = new Sampler(0f, 1f, 0);
        this.heldToken = progress.heldToken();
        this.promptTokens = progress.promptTokens();
        this.decoding = progress.decoding();
        this.nextToken = progress.nextToken();
        this.generated = progress.generated();
        this.finished = progress.finished();
    }

    /** A new document over an empty cache. */
    public static DocumentSession start(LlamaModel model, KvCache cache, GenerationSettings settings, String docId) {
        int bos = model.vocabulary().bos();
        Checks.checkArgument(bos >= 0, "the model's vocabulary has no BOS token; it cannot start a document");
        DocumentProgress fresh = new DocumentProgress(0, bos, 1, false, 0, 0, false);
        return new DocumentSession(model, cache, settings, seedOf(settings, docId), fresh);
    }

    /** A document restored from state; {@code cache} already holds its positions. */
    public static DocumentSession resume(LlamaModel model, KvCache cache, GenerationSettings settings, String docId,
                                         DocumentProgress progress) {
        return new DocumentSession(model, cache, settings, seedOf(settings, docId), progress);
    }

    /**
     * Adds prompt tokens. On the last chunk the whole prompt is run and the first token sampled.
     *
     * @return tokens run through the model by this call
     */
    public int prefill(int[] tokens, boolean last) {
        Checks.checkState(!decoding, "prefill after the last chunk: the document's prompt is already complete");
        int n = tokens.length;
        int run = last ? n + 1 : n;          // held token + tokens, minus the new held one unless last
        if (n == 0 && !last) {
            return 0;
        }
        if (scratch.length < run) {
            scratch = new int[Math.max(run, 2 * scratch.length)];
        }
        scratch[0] = heldToken;
        System.arraycopy(tokens, 0, scratch, 1, last ? n : n - 1);
        float[] logits = session.prefill(scratch, 0, run, last);
        promptTokens += n;
        if (last) {
            decoding = true;
            nextToken = sample(logits);
        } else {
            heldToken = tokens[n - 1];
        }
        return run;
    }

    /**
     * Generates up to {@code max} tokens into {@code out}.
     *
     * @return tokens written to {@code out}; fewer than {@code max} only when generation ended
     */
    public int decode(int max, int[] out) {
        Checks.checkState(decoding, "decode before the last chunk: the prompt is not complete");
        int produced = 0;
        while (produced < max && !finished) {
            if (generated >= settings.maxTokens() || nextToken == eos) {
                finished = true;
                break;
            }
            out[produced++] = nextToken;
            generated++;
            if (generated < settings.maxTokens()) {
                nextToken = sample(session.step(nextToken));
            } else {
                finished = true;
            }
        }
        return produced;
    }

    /** True once generation ended; the document's state can then be cleared. */
    public boolean finished() {
        return finished;
    }

    /** True once the last chunk was prefilled. */
    public boolean decoding() {
        return decoding;
    }

    /** Prompt tokens seen (BOS included). */
    public long promptTokens() {
        return promptTokens;
    }

    /** Tokens generated so far. */
    public int generated() {
        return generated;
    }

    /** The state to store for this document now. */
    public DocumentProgress progress() {
        return new DocumentProgress(session.position(), heldToken, promptTokens, decoding, nextToken, generated,
                finished);
    }

    private int sample(float[] logits) {
        if (settings.temperature() == 0f) {
            return greedy.sample(logits);
        }
        // NOTE: a fresh sampler per step, seeded by (document, step), makes sampling restartable
        // without storing the generator's internal state
        long seed = documentSeed + 0x9E3779B97F4A7C15L * (generated + 1);
        return new Sampler(settings.temperature(), settings.topP(), seed).sample(logits);
    }

    private static long seedOf(GenerationSettings settings, String docId) {
        return settings.seed() ^ (0xBF58476D1CE4E5B9L * docId.hashCode());
    }
}
