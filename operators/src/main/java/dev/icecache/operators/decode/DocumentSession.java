package dev.icecache.operators.decode;

import java.util.Arrays;

import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.KvCache;
import dev.icecache.model.ForwardPass;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.Sampler;
import dev.icecache.model.Session;
import dev.icecache.operators.tokenize.PromptTokens;

/**
 * One document's run through the model, independent of Flink: prefill chunk by chunk, then
 * generate in slices; with rolling summaries on, also a summary every so many document tokens
 * while the document streams in. The Flink decoder only moves {@link DocumentProgress},
 * {@link RollingProgress} and KV pages in and out of keyed state around these calls.
 *
 * <pre>
 *   prompt  = BOS, chunk 0 tokens, chunk 1 tokens, ..., last chunk tokens
 *   prefill: held = held + chunk; run held up to the last multiple of PREFILL_BATCH positions
 *            past the segment's origin (keeping at least one token); the rest stays held
 *            the last chunk runs everything held and yields the first logits
 *   decode:  t = sample(logits); stop on EOS or maxTokens; emit t; logits = step(t); ...
 *
 *   rolling (every N document tokens, checked at chunk boundaries):
 *     the first chunk that brings the document tokens read to a multiple of N or beyond runs
 *     held + chunk + instruction, and a rolling summary of up to rollingMaxTokens is decoded
 *     as above; then the prefill goes on in a new segment whose origin is the position the
 *     summary ended at, starting with its last token when that one was not fed back yet.
 *     Segment by segment this is the engine's plain loop: prefill(segment), sample/step, ...
 * </pre>
 *
 * NOTE: the rolling summaries stay in the context, so the model reads its own earlier notes
 * before the rest of the document and the final summary; dropping them would need positions to
 * be reused, which a KV cache with RoPE baked into its keys cannot do.
 *
 * This is exactly the engine's plain loop (prefill a whole segment, then sample/step), split at
 * element boundaries. NOTE: prefill calls start at multiples of the engine's batch from the
 * segment's origin, so every forward batch covers the same positions as one whole-segment
 * prefill: a paged cache commits rows per batch, and its page selection (hence the output)
 * depends on where batches end. Sampling uses a seed per (document, step), so it is the same
 * after a restore. Not thread-safe.
 */
public final class DocumentSession {

    /**
     * Positions per engine forward batch in prefill: the engine's own, so prefill batches end
     * where a run of the engine alone would end them (IceCache output depends on it).
     */
    public static final int PREFILL_BATCH = Session.PREFILL_BATCH;

    private final Session session;
    private final GenerationSettings settings;
    /** Tokens run before each rolling summary (the prompt's instruction); empty when rolling is off. */
    private final int[] instruction;
    /** Tokens held after a rolling summary, before the document goes on (a chat's new user turn). */
    private final int[] resume;
    private final PromptTokens prompt;
    private final long documentSeed;
    private final int eos;
    private final int[] tokenTypes;
    private final Sampler greedy;
    private int[] held;
    private long promptTokens;
    private boolean decoding;
    private int nextToken;
    private int generated;
    private boolean finished;
    private long nextSummaryAt;
    private int batchOrigin;
    private boolean summarizing;
    private int generatedBefore;
    /** True while the summary being decoded closes a segment (its limit is maxTokens, see {@link SegmentPlan}). */
    private boolean closingSegment;

    private DocumentSession(LlamaModel model, ForwardPass pass, KvCache cache, GenerationSettings settings,
                            PromptTokens prompt, long documentSeed, DocumentProgress progress, RollingProgress rolling,
                            boolean closingSegment) {
        int[] instruction = prompt.instruction();
        Checks.checkArgument(cache.length() == progress.cacheLength(),
                "cache holds %d positions but the document's progress says %d; state is inconsistent",
                cache.length(), progress.cacheLength());
        Checks.checkArgument(!settings.rolling() || instruction.length > 0,
                "rolling summaries need an instruction to append; the prompt template has no text after the document");
        this.session = pass == null ? model.newSession(cache) : model.newSession(cache, pass);
        this.settings = settings;
        this.instruction = instruction.clone();
        this.resume = prompt.resume().clone();
        this.prompt = prompt;
        this.tokenTypes = model.vocabulary().tokenTypes();
        this.documentSeed = documentSeed;
        this.eos = model.vocabulary().eos();
        this.greedy = new Sampler(0f, 1f, 0);
        this.held = progress.heldTokens().clone();
        this.promptTokens = progress.promptTokens();
        this.decoding = progress.decoding();
        this.nextToken = progress.nextToken();
        this.generated = progress.generated();
        this.finished = progress.finished();
        RollingProgress r = rolling == null ? RollingProgress.derivedFrom(progress, settings.rollingEvery()) : rolling;
        this.nextSummaryAt = r.nextSummaryAt();
        this.batchOrigin = r.batchOrigin();
        this.summarizing = r.summarizing();
        this.generatedBefore = r.generatedBefore();
        this.closingSegment = closingSegment && summarizing;
    }

    /** A new document over an empty cache, on its own CPU forward pass, without rolling summaries. */
    public static DocumentSession start(LlamaModel model, KvCache cache, GenerationSettings settings, String docId) {
        return start(model, null, cache, settings, new int[0], docId);
    }

    /**
     * A new document without rolling summaries over an empty cache, computed by {@code pass}
     * (shared with the subtask's other documents), or by its own CPU pass when {@code pass} is null.
     */
    public static DocumentSession start(LlamaModel model, ForwardPass pass, KvCache cache, GenerationSettings settings,
                                        String docId) {
        return start(model, pass, cache, settings, new int[0], docId);
    }

    /**
     * A new document over an empty cache, computed by {@code pass} (shared with the subtask's other
     * documents), or by its own CPU pass when {@code pass} is null.
     *
     * @param instruction the tokens run before each rolling summary (the prompt template's suffix
     *                    on its own); must not be empty when {@code settings} has rolling summaries
     */
    public static DocumentSession start(LlamaModel model, ForwardPass pass, KvCache cache, GenerationSettings settings,
                                        int[] instruction, String docId) {
        return start(model, pass, cache, settings, PromptTokens.plain(instruction), docId);
    }

    /**
     * As {@link #start(LlamaModel, ForwardPass, KvCache, GenerationSettings, int[], String)}, with the
     * prompt's tokens around summaries ({@link PromptTokens}: a chat's turns).
     */
    public static DocumentSession start(LlamaModel model, ForwardPass pass, KvCache cache, GenerationSettings settings,
                                        PromptTokens prompt, String docId) {
        int bos = model.vocabulary().bos();
        Checks.checkArgument(bos >= 0, "the model's vocabulary has no BOS token; it cannot start a document");
        DocumentProgress fresh = new DocumentProgress(0, new int[] {bos}, 1, false, 0, 0, false);
        return new DocumentSession(model, pass, cache, settings, prompt, seedOf(settings, docId), fresh, null,
                false);
    }

    /**
     * The next context of a document read in segments, over an empty cache: {@code prefix} (BOS,
     * and what the segment carries over) is held and runs with the segment's first prefill; the
     * document's counts go on from where the last context left them.
     *
     * @param promptTokens the document's prompt tokens read so far (BOS included, prefixes not)
     * @param generated tokens generated so far over all its summaries
     */
    public static DocumentSession startSegment(LlamaModel model, ForwardPass pass, KvCache cache,
                                               GenerationSettings settings, PromptTokens prompt, String docId,
                                               int[] prefix, long promptTokens, int generated) {
        Checks.checkArgument(prefix.length > 0, "a segment starts with at least BOS");
        DocumentProgress fresh = new DocumentProgress(0, prefix, promptTokens, false, 0, generated, false);
        RollingProgress derived = RollingProgress.derivedFrom(fresh, settings.rollingEvery());
        return new DocumentSession(model, pass, cache, settings, prompt, seedOf(settings, docId), fresh,
                new RollingProgress(derived.nextSummaryAt(), 0, false, generated), false);
    }

    /** A document restored from state, without rolling summaries; {@code cache} already holds its positions. */
    public static DocumentSession resume(LlamaModel model, KvCache cache, GenerationSettings settings, String docId,
                                         DocumentProgress progress) {
        return resume(model, null, cache, settings, new int[0], docId, progress, null);
    }

    /** As {@link #resume(LlamaModel, KvCache, GenerationSettings, String, DocumentProgress)}, computed by {@code pass}. */
    public static DocumentSession resume(LlamaModel model, ForwardPass pass, KvCache cache, GenerationSettings settings,
                                         String docId, DocumentProgress progress) {
        return resume(model, pass, cache, settings, new int[0], docId, progress, null);
    }

    /**
     * A document restored from state, computed by {@code pass}; {@code cache} already holds its
     * positions.
     *
     * @param instruction as for {@link #start(LlamaModel, ForwardPass, KvCache, GenerationSettings, int[], String)}
     * @param rolling the stored rolling progress, or null when the state holds none
     */
    public static DocumentSession resume(LlamaModel model, ForwardPass pass, KvCache cache, GenerationSettings settings,
                                         int[] instruction, String docId, DocumentProgress progress,
                                         RollingProgress rolling) {
        return resume(model, pass, cache, settings, PromptTokens.plain(instruction), docId, progress, rolling, false);
    }

    /**
     * As {@link #resume(LlamaModel, ForwardPass, KvCache, GenerationSettings, int[], String,
     * DocumentProgress, RollingProgress)}, for a document that was closing a segment when stored
     * ({@link SegmentProgress.Phase#CLOSING}).
     */
    public static DocumentSession resume(LlamaModel model, ForwardPass pass, KvCache cache, GenerationSettings settings,
                                         PromptTokens prompt, String docId, DocumentProgress progress,
                                         RollingProgress rolling, boolean closingSegment) {
        return new DocumentSession(model, pass, cache, settings, prompt, seedOf(settings, docId), progress,
                rolling, closingSegment);
    }

    /**
     * Adds prompt tokens. On the last chunk the whole prompt is run and the first token sampled.
     * With rolling summaries on, a chunk that is not the last and brings the document tokens read
     * to the next multiple of the interval (or beyond) runs the instruction after it and starts a
     * rolling summary ({@link #summarizing()}); the multiples it passed are then all covered.
     *
     * @return tokens run through the model by this call
     */
    public int prefill(int[] tokens, boolean last) {
        Checks.checkState(!decoding, "prefill after the last chunk: the document's prompt is already complete");
        Checks.checkState(!summarizing, "prefill during a rolling summary: queue the chunk until the summary ends");
        int[] pending = new int[held.length + tokens.length];
        System.arraycopy(held, 0, pending, 0, held.length);
        System.arraycopy(tokens, 0, pending, held.length, tokens.length);
        promptTokens += tokens.length;
        boolean summarize = !last && settings.rolling() && documentTokens() >= nextSummaryAt
                && (long) session.position() + pending.length + instruction.length <= maxPositions();
        if (summarize) {
            pending = Arrays.copyOf(pending, pending.length + instruction.length);
            System.arraycopy(instruction, 0, pending, pending.length - instruction.length, instruction.length);
            nextSummaryAt = (documentTokens() / settings.rollingEvery() + 1) * settings.rollingEvery();
        }
        boolean wantLogits = last || summarize;
        int run = wantLogits ? pending.length : alignedRun(session.position() - batchOrigin, pending.length - 1);
        float[] logits = session.prefill(pending, 0, run, wantLogits);
        held = Arrays.copyOfRange(pending, run, pending.length);
        if (wantLogits) {
            generatedBefore = generated;
            decoding = last;
            summarizing = summarize;
            if (logits == null) {
                // NOTE: only after a rolling summary that ended on EOS, with an empty last chunk and
                // instruction: the model already chose to stop, so the final summary is empty
                finished = true;
            } else {
                nextToken = sample(logits);
            }
        }
        return run;
    }

    /**
     * Closes the current segment of a document read in segments: runs what is held and the
     * instruction, and starts the segment's summary (up to {@code maxTokens}, decoded as a rolling
     * one is: {@link #summarizing()}). With nothing held and no instruction the summary is empty.
     *
     * @return tokens run through the model by this call
     */
    public int closeSegment() {
        Checks.checkState(!decoding && !summarizing, "a segment closes between chunks, not while decoding");
        int[] pending = Arrays.copyOf(held, held.length + instruction.length);
        System.arraycopy(instruction, 0, pending, held.length, instruction.length);
        float[] logits = pending.length == 0 ? null : session.prefill(pending, 0, pending.length, true);
        held = new int[0];
        generatedBefore = generated;
        summarizing = true;
        closingSegment = true;
        nextToken = logits == null ? eos : sample(logits);
        return pending.length;
    }

    /** True when a chunk of {@code tokens} would start a rolling summary (prefilled as it is now). */
    public boolean startsRollingSummary(int tokens, boolean last) {
        return !last && settings.rolling() && documentTokens() + tokens >= nextSummaryAt;
    }

    /**
     * True when {@code moreTokens} further prompt tokens would take the document past the
     * context (the positions the cache can hold); such a document cannot be run.
     */
    public boolean exceedsContext(int moreTokens) {
        return positionsNeeded(moreTokens) > maxPositions();
    }

    /**
     * Positions the document needs once {@code moreTokens} further prompt tokens are in: its
     * prompt tokens, plus its rolling summaries and their instructions when it has any.
     */
    public long positionsNeeded(int moreTokens) {
        return (long) session.position() + held.length + moreTokens;
    }

    /** Positions the cache can hold: the context length. */
    public int maxPositions() {
        return session.cache().shape().maxTokens();
    }

    /** The most of {@code available} tokens that end a forward batch at a multiple of the batch past the origin. */
    static int alignedRun(int sinceOrigin, int available) {
        int end = sinceOrigin + available;
        return Math.max(0, end - end % PREFILL_BATCH - sinceOrigin);
    }

    /**
     * Generates up to {@code max} tokens of the summary being decoded (the rolling one while
     * {@link #summarizing()}, else the final one) into {@code out}.
     *
     * @return tokens written to {@code out}; fewer than {@code max} only when that summary ended
     */
    public int decode(int max, int[] out) {
        Checks.checkState(decoding || summarizing, "decode before the last chunk: the prompt is not complete");
        int limit = summarizing && !closingSegment ? settings.rollingMaxTokens() : settings.maxTokens();
        int produced = 0;
        boolean active = summarizing || !finished;
        while (produced < max && active) {
            if (generated - generatedBefore >= limit || prompt.ends(nextToken, eos, tokenTypes)) {
                endSummary(false);
                break;
            }
            out[produced++] = nextToken;
            generated++;
            // NOTE: generation stops at the context length as at max-tokens: the token just
            // emitted needs no position of its own, feeding it back would
            if (generated - generatedBefore < limit && session.position() < maxPositions()) {
                nextToken = sample(session.step(nextToken));
            } else {
                endSummary(true);
                break;
            }
        }
        return produced;
    }

    /**
     * Ends the summary being decoded. A rolling summary's tokens stay in the context: the last
     * one, when not fed back yet, starts the next prefill segment.
     */
    private void endSummary(boolean lastTokenUnfed) {
        if (!summarizing) {
            finished = true;
            return;
        }
        summarizing = false;
        closingSegment = false;
        // a chat's resume tokens close the assistant's turn (its end-of-turn token was not fed back)
        // and open a new user turn for the rest of the document
        held = new int[(lastTokenUnfed ? 1 : 0) + resume.length];
        if (lastTokenUnfed) {
            held[0] = nextToken;
        }
        System.arraycopy(resume, 0, held, held.length - resume.length, resume.length);
        batchOrigin = session.position();
    }

    /** True once generation ended; the document's state can then be cleared. */
    public boolean finished() {
        return finished;
    }

    /** True once the last chunk was prefilled. */
    public boolean decoding() {
        return decoding;
    }

    /** True while a rolling summary is decoded; chunks must wait until it ends. */
    public boolean summarizing() {
        return summarizing;
    }

    /** Prompt tokens seen (BOS included). */
    public long promptTokens() {
        return promptTokens;
    }

    /** Document tokens read: the prompt tokens of the chunks seen (template included, BOS excluded). */
    public long documentTokens() {
        return promptTokens - 1;
    }

    /** Tokens generated so far, over all summaries. */
    public int generated() {
        return generated;
    }

    /** The state to store for this document now. */
    public DocumentProgress progress() {
        return new DocumentProgress(session.position(), held.clone(), promptTokens, decoding, nextToken, generated,
                finished);
    }

    /** Where the rolling summaries stand now (to store beside {@link #progress()} when they are on). */
    public RollingProgress rollingProgress() {
        return new RollingProgress(nextSummaryAt, batchOrigin, summarizing, generatedBefore);
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
