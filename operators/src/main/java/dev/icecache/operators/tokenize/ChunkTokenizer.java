package dev.icecache.operators.tokenize;

import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.decode.SharedModels;
import dev.icecache.operators.document.DocumentChunk;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.IntSerializer;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.apache.flink.util.TimeUtils;

/**
 * The keyed tokenizer step (key = document id): puts the prompt template around the document
 * and tokenizes it with {@link StreamingTokenizer}, keeping the unfinished tail in keyed state,
 * so the tokens equal tokenizing the whole prompt text at once. State is cleared at the
 * document's last chunk.
 *
 * <p>Chunks are taken in {@code seq} order whatever order they arrive in: a chunk seen before
 * (at-least-once sources replay) is dropped, one that arrives early waits in keyed state until
 * the chunks before it came. A finished document leaves only a small marker, kept for
 * {@link #FINISHED_MARKER_TTL}, so a replay of it is dropped too.
 *
 * <p>A document can also end early, with the chunks that arrived (those waiting behind a gap
 * included, in {@code seq} order), and a note saying why:
 * <ul>
 *   <li>idle: with {@code icecache.document.idle-timeout} &gt; 0, a processing-time timer per
 *       unfinished document (in keyed state, so it survives a restore) fires when no chunk
 *       came for that long;</li>
 *   <li>malformed: a {@linkplain DocumentChunk#isMalformed malformed chunk} of the document.</li>
 * </ul>
 * and, run by {@link TokenizerOperator}, when a bounded input ends with documents still
 * unfinished. Every document's end is also sent as a {@link DocumentEnd} on
 * {@link #DOCUMENT_ENDS}.
 */
public final class ChunkTokenizer extends KeyedProcessFunction<String, DocumentChunk, TokenChunk> {

    private static final long serialVersionUID = 1L;

    /** Side output: one {@link DocumentEnd} per document, when the tokenizer ends it. */
    public static final OutputTag<DocumentEnd> DOCUMENT_ENDS =
            new OutputTag<>("icecache-document-ends", TypeInformation.of(DocumentEnd.class));

    /** Name of the per-document carry state. */
    static final String CARRY_STATE = "icecache-tokenizer-carry";
    /** Name of the per-document state holding the seq of the next chunk to take. */
    static final String NEXT_CHUNK_STATE = "icecache-tokenizer-next-chunk";
    /** Name of the per-document map state of chunks that arrived before their turn. */
    static final String EARLY_CHUNKS_STATE = "icecache-tokenizer-early-chunks";
    /** Name of the per-document state holding the time its idle timer fires. */
    static final String IDLE_DEADLINE_STATE = "icecache-tokenizer-idle-deadline";
    /** The next-chunk value of a finished document. */
    static final int FINISHED = -1;
    /** How long the marker of a finished document (and an idle document's position) is kept. */
    static final Duration FINISHED_MARKER_TTL = Duration.ofDays(1);

    /** Where a document's end goes: the side output, and the timer service to drop its idle timer. */
    interface Ends {
        /** Sends the document's end on {@link #DOCUMENT_ENDS}. */
        void send(DocumentEnd end);

        /** Deletes the current document's processing-time timer at {@code time}. */
        void deleteTimer(long time);
    }

    private final DecoderSettings settings;
    private transient StreamingTokenizer tokenizer;
    private transient PromptTokens promptTokens;
    private transient ValueState<TokenizerCarry> carries;
    private transient ValueState<Integer> nextChunk;
    private transient MapState<Integer, DocumentChunk> earlyChunks;
    private transient ValueState<Long> idleDeadline;
    private transient Counter chunksDropped;
    private transient Counter chunksReordered;
    private transient Counter documentsEndedEarly;

    /** @param settings the job's settings (model, prompt template, idle timeout) */
    public ChunkTokenizer(DecoderSettings settings) {
        this.settings = settings;
    }

    @Override
    public void open(OpenContext openContext) {
        var model = SharedModels.acquire(settings.modelPath(), settings.contextLength());
        tokenizer = new StreamingTokenizer(model.tokenizer());
        promptTokens = PromptTokens.of(settings.prompt(), model);
        carries = getRuntimeContext().getState(
                new ValueStateDescriptor<>(CARRY_STATE, TypeInformation.of(TokenizerCarry.class)));
        ValueStateDescriptor<Integer> next = new ValueStateDescriptor<>(NEXT_CHUNK_STATE, IntSerializer.INSTANCE);
        next.enableTimeToLive(StateTtlConfig.newBuilder(FINISHED_MARKER_TTL).build());
        nextChunk = getRuntimeContext().getState(next);
        earlyChunks = getRuntimeContext().getMapState(new MapStateDescriptor<>(EARLY_CHUNKS_STATE,
                Types.INT, TypeInformation.of(DocumentChunk.class)));
        idleDeadline = getRuntimeContext().getState(
                new ValueStateDescriptor<>(IDLE_DEADLINE_STATE, LongSerializer.INSTANCE));
        var metrics = getRuntimeContext().getMetricGroup().addGroup("icecache");
        chunksDropped = metrics.counter("chunksDropped");
        chunksReordered = metrics.counter("chunksReordered");
        documentsEndedEarly = metrics.counter("documentsEndedEarly");
    }

    @Override
    public void close() {
        if (tokenizer != null) {
            SharedModels.release(settings.modelPath(), settings.contextLength());
            tokenizer = null;
        }
    }

    @Override
    public void processElement(DocumentChunk chunk, Context ctx, Collector<TokenChunk> out) throws Exception {
        if (chunk.isMalformed()) {
            endEarly(chunk.docId(), chunk.text(), ends(ctx), out);
            return;
        }
        Integer stored = nextChunk.value();
        int expected = stored == null ? 0 : stored;
        if (expected == FINISHED || chunk.seq() < expected) {
            chunksDropped.inc(); // seen before: a replay (or a chunk after its document ended early)
            return;
        }
        if (chunk.seq() > expected) {
            chunksReordered.inc();
            earlyChunks.put(chunk.seq(), chunk);
            armIdleTimer(ctx);
            return;
        }
        DocumentChunk next = chunk;
        while (next != null) {
            tokenize(next.docId(), next.text(), next.seq() == 0, next.last(), out);
            if (next.last()) {
                finish(next.docId(), null, true, ends(ctx));
                return;
            }
            expected++;
            next = earlyChunks.get(expected);
            if (next != null) {
                earlyChunks.remove(expected);
            }
        }
        nextChunk.update(expected);
        armIdleTimer(ctx);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<TokenChunk> out) throws Exception {
        Long deadline = idleDeadline.value();
        if (deadline == null || deadline != timestamp) {
            return; // a timer replaced by a later chunk's, or of a document that already ended
        }
        endEarly(ctx.getCurrentKey(), "ended after idle timeout of "
                + TimeUtils.formatWithHighestUnit(settings.documentIdleTimeout()) + ": no final chunk received",
                ends(ctx), out);
    }

    /**
     * Ends the current document, if it has started and not ended, because the input ended
     * before its last chunk (a bounded Kafka source drained, or a job stopped with drain).
     * Called by {@link TokenizerOperator} for each document in state.
     */
    void endAtEndOfInput(String docId, Ends ends, Collector<TokenChunk> out) throws Exception {
        Integer stored = nextChunk.value();
        if (stored != null && stored == FINISHED) {
            return;
        }
        if (stored == null && earlyChunks.isEmpty()) {
            return; // nothing of it is held
        }
        endEarly(docId, "the input ended before its final chunk", ends, out);
    }

    private static Ends ends(Context ctx) {
        return new Ends() {
            @Override
            public void send(DocumentEnd end) {
                ctx.output(DOCUMENT_ENDS, end);
            }

            @Override
            public void deleteTimer(long time) {
                ctx.timerService().deleteProcessingTimeTimer(time);
            }
        };
    }

    /**
     * Ends the current document now with what arrived: the chunks waiting behind a gap are
     * tokenized in {@code seq} order, then the prompt's suffix closes it. {@code why} goes into
     * the document's {@link DocumentEnd}, with how many chunks were used and missing.
     */
    private void endEarly(String docId, String why, Ends ends, Collector<TokenChunk> out) throws Exception {
        documentsEndedEarly.inc();
        Integer stored = nextChunk.value();
        int expected = stored == null ? 0 : stored;
        if (expected == FINISHED) {
            // already over (a malformed record after its end): report it on its own
            ends.send(new DocumentEnd(docId, why + "; the document had already ended", false));
            return;
        }
        List<Integer> waiting = new ArrayList<>();
        for (Integer seq : earlyChunks.keys()) {
            waiting.add(seq);
        }
        if (expected == 0 && waiting.isEmpty()) {
            finish(docId, why + "; no chunk of the document arrived", false, ends);
            return;
        }
        Collections.sort(waiting);
        boolean first = expected == 0;
        for (Integer seq : waiting) {
            tokenize(docId, earlyChunks.get(seq).text(), first, false, out);
            first = false;
        }
        tokenize(docId, "", false, true, out);
        int used = expected + waiting.size();
        int missing = waiting.isEmpty() ? 0 : waiting.get(waiting.size() - 1) + 1 - used;
        finish(docId, why + "; summarized the " + used + " chunk(s) that arrived"
                + (missing > 0 ? " (" + missing + " missing before the last of them)" : ""), true, ends);
    }

    /** Marks the document finished, drops what waits for it and says so on {@link #DOCUMENT_ENDS}. */
    private void finish(String docId, String note, boolean decoded, Ends ends) throws Exception {
        earlyChunks.clear();
        nextChunk.update(FINISHED);
        Long deadline = idleDeadline.value();
        if (deadline != null) {
            ends.deleteTimer(deadline);
            idleDeadline.clear();
        }
        ends.send(new DocumentEnd(docId, note, decoded));
    }

    /** With an idle timeout, (re)starts the current document's timer from now. */
    private void armIdleTimer(Context ctx) throws Exception {
        long timeout = settings.documentIdleTimeout().toMillis();
        if (timeout <= 0) {
            return;
        }
        Long previous = idleDeadline.value();
        if (previous != null) {
            ctx.timerService().deleteProcessingTimeTimer(previous);
        }
        long deadline = ctx.timerService().currentProcessingTime() + timeout;
        ctx.timerService().registerProcessingTimeTimer(deadline);
        idleDeadline.update(deadline);
    }

    /**
     * Tokenizes the next text of a document: {@code first} puts the prompt's prefix before it,
     * {@code last} its suffix after it and flushes the carry. With a chat template, the text is
     * the user message (plain text, stripped at its ends when the template trims it), the first
     * piece starts with the template's opening tokens and the last ends with its closing ones.
     */
    private void tokenize(String docId, String chunkText, boolean first, boolean last, Collector<TokenChunk> out)
            throws Exception {
        TokenizerCarry carry = carries.value();
        if (carry == null) {
            carry = TokenizerCarry.START;
        }
        PromptTemplate prompt = settings.prompt();
        String text = first ? prompt.prefix().concat(chunkText) : chunkText;
        if (last) {
            text = text.concat(prompt.suffix());
        }
        if (promptTokens.trimsContent()) {
            if (carry.nextSeq() == 0 && carry.tail().isEmpty()) {
                text = text.stripLeading(); // nothing of the message is out or held yet: this is its start
            }
            if (last) {
                text = carry.tail().concat(text).stripTrailing();
                carry = new TokenizerCarry("", carry.continuation(), carry.nextSeq());
            }
        }
        StreamingTokenizer.Step step = tokenizer.accept(docId, carry, text, last);
        TokenChunk chunk = step.chunk();
        if (chunk != null) {
            out.collect(promptTokens.open().length + promptTokens.close().length == 0 ? chunk : framed(chunk));
        }
        if (last) {
            carries.clear();
        } else {
            carries.update(step.carry());
        }
    }

    /** A chat's opening tokens before the document's first piece, its closing ones after the last. */
    private TokenChunk framed(TokenChunk chunk) {
        int[] open = chunk.seq() == 0 ? promptTokens.open() : new int[0];
        int[] close = chunk.last() ? promptTokens.close() : new int[0];
        int[] tokens = new int[open.length + chunk.tokens().length + close.length];
        System.arraycopy(open, 0, tokens, 0, open.length);
        System.arraycopy(chunk.tokens(), 0, tokens, open.length, chunk.tokens().length);
        System.arraycopy(close, 0, tokens, open.length + chunk.tokens().length, close.length);
        return new TokenChunk(chunk.docId(), chunk.seq(), tokens, chunk.last());
    }
}
