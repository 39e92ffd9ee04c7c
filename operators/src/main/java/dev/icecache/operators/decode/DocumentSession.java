package dev.icecache.operators.decode;

import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.KvCache;
import dev.icecache.model.ForwardPass;
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
 *   prefill: held = held + chunk; run held up to the last multiple of PREFILL_BATCH positions
 *            (keeping at least one token); the rest stays held
 *            the last chunk runs everything held and yields the first logits
 *   decode:  t = sample(logits); stop on EOS or maxTokens; emit t; logits = step(t); ...
 * </pre>
 *
 * This is exactly the engine's plain loop (prefill the whole prompt, then sample/step), split at
 * element boundaries. NOTE: prefill calls start at multiples of the engine's batch so every
 * forward batch covers the same positions as one whole-prompt prefill: a paged cache commits
 * rows per batch, and its page selection (hence the output) depends on where batches end.
 * Sampling uses a seed per (document, step), so it is the same after a restore. Not thread-safe.
 */
public final class DocumentSession {

    /**
     * Positions per engine forward batch in prefill: the engine's own, so prefill batches end
     * where a run of the engine alone would end them (IceCache output depends on it).
     */
    public static final int PREFILL_BATCH = Session.PREFILL_BATCH;

    private final Session session;
    private final GenerationSettings settings;
    private final long documentSeed;
    private final int eos;
    private final Sampler greedy;
    private int[] held;
    private long promptTokens;
    private boolean decoding;
    private int nextToken;
    private int generated;
    private boolean finished;

    private DocumentSession(LlamaModel model, ForwardPass pass, KvCache cache, GenerationSettings settings,
                            long documentSeed, DocumentProgress progress) {
        Checks.checkArgument(cache.length() == progress.cacheLength(),
                "cache holds %d positions but the document's progress says %d; state is inconsistent",
                cache.length(), progress.cacheLength());
        this.session = pass == null ? model.newSession(cache) : model.newSession(cache, pass);
        this.settings = settings;
        this.documentSeed = documentSeed;
        this.eos = model.vocabulary().eos();
        this.greedy = new Sampler(0f, 1f, 0);
        this.held = progress.heldTokens().clone();
        this.promptTokens = progress.promptTokens();
        this.decoding = progress.decoding();
        this.nextToken = progress.nextToken();
        this.generated = progress.generated();
        this.finished = progress.finished();
    }

    /** A new document over an empty cache, on its own CPU forward pass. */
    public static DocumentSession start(LlamaModel model, KvCache cache, GenerationSettings settings, String docId) {
        return start(model, null, cache, settings, docId);
    }

    /**
     * A new document over an empty cache, computed by {@code pass} (shared with the subtask's other
     * documents), or by its own CPU pass when {@code pass} is null.
     */
    public static DocumentSession start(LlamaModel model, ForwardPass pass, KvCache cache, GenerationSettings settings,
                                        String docId) {
        int bos = model.vocabulary().bos();
        Checks.checkArgument(bos >= 0, "the model's vocabulary has no BOS token; it cannot start a document");
        DocumentProgress fresh = new DocumentProgress(0, new int[] {bos}, 1, false, 0, 0, false);
        return new DocumentSession(model, pass, cache, settings, seedOf(settings, docId), fresh);
    }

    /** A document restored from state; {@code cache} already holds its positions. */
    public static DocumentSession resume(LlamaModel model, KvCache cache, GenerationSettings settings, String docId,
                                         DocumentProgress progress) {
        return resume(model, null, cache, settings, docId, progress);
    }

    /** As {@link #resume(LlamaModel, KvCache, GenerationSettings, String, DocumentProgress)}, computed by {@code pass}. */
    public static DocumentSession resume(LlamaModel model, ForwardPass pass, KvCache cache, GenerationSettings settings,
                                         String docId, DocumentProgress progress) {
        return new DocumentSession(model, pass, cache, settings, seedOf(settings, docId), progress);
    }

    /**
     * Adds prompt tokens. On the last chunk the whole prompt is run and the first token sampled.
     *
     * @return tokens run through the model by this call
     */
    public int prefill(int[] tokens, boolean last) {
        Checks.checkState(!decoding, "prefill after the last chunk: the document's prompt is already complete");
        int[] pending = new int[held.length + tokens.length];
        System.arraycopy(held, 0, pending, 0, held.length);
        System.arraycopy(tokens, 0, pending, held.length, tokens.length);
        promptTokens += tokens.length;
        int run = last ? pending.length : alignedRun(session.position(), pending.length - 1);
        float[] logits = session.prefill(pending, 0, run, last);
        held = java.util.Arrays.copyOfRange(pending, run, pending.length);
        if (last) {
            decoding = true;
            nextToken = sample(logits);
        }
        return run;
    }

    /**
     * True when {@code moreTokens} further prompt tokens would take the prompt past the
     * context (the positions the cache can hold); such a document cannot be run.
     */
    public boolean exceedsContext(int moreTokens) {
        return promptTokens + moreTokens > maxPositions();
    }

    /** Positions the cache can hold: the context length. */
    public int maxPositions() {
        return session.cache().shape().maxTokens();
    }

    /** The most of {@code available} tokens that end a forward batch at an absolute multiple of the batch. */
    static int alignedRun(int position, int available) {
        int end = position + available;
        return Math.max(0, end - end % PREFILL_BATCH - position);
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
            // NOTE: generation stops at the context length as at max-tokens: the token just
            // emitted needs no position of its own, feeding it back would
            if (generated < settings.maxTokens() && session.position() < maxPositions()) {
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
        return new DocumentProgress(session.position(), held.clone(), promptTokens, decoding, nextToken, generated,
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
