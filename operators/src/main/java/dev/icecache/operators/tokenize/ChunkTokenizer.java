package dev.icecache.operators.tokenize;

import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.decode.SharedModels;
import dev.icecache.operators.document.DocumentChunk;

import java.time.Duration;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.IntSerializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

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
 */
public final class ChunkTokenizer extends KeyedProcessFunction<String, DocumentChunk, TokenChunk> {

    private static final long serialVersionUID = 1L;

    /** Name of the per-document carry state. */
    static final String CARRY_STATE = "icecache-tokenizer-carry";
    /** Name of the per-document state holding the seq of the next chunk to take. */
    static final String NEXT_CHUNK_STATE = "icecache-tokenizer-next-chunk";
    /** Name of the per-document map state of chunks that arrived before their turn. */
    static final String EARLY_CHUNKS_STATE = "icecache-tokenizer-early-chunks";
    /** The next-chunk value of a finished document. */
    static final int FINISHED = -1;
    /** How long the marker of a finished document (and an idle document's position) is kept. */
    static final Duration FINISHED_MARKER_TTL = Duration.ofDays(1);

    private final DecoderSettings settings;
    private transient StreamingTokenizer tokenizer;
    private transient ValueState<TokenizerCarry> carries;
    private transient ValueState<Integer> nextChunk;
    private transient MapState<Integer, DocumentChunk> earlyChunks;
    private transient Counter chunksDropped;
    private transient Counter chunksReordered;

    /** @param settings the job's settings (model and prompt template) */
    public ChunkTokenizer(DecoderSettings settings) {
        this.settings = settings;
    }

    @Override
    public void open(OpenContext openContext) {
        tokenizer = new StreamingTokenizer(
                SharedModels.acquire(settings.modelPath(), settings.contextLength()).tokenizer());
        carries = getRuntimeContext().getState(
                new ValueStateDescriptor<>(CARRY_STATE, TypeInformation.of(TokenizerCarry.class)));
        ValueStateDescriptor<Integer> next = new ValueStateDescriptor<>(NEXT_CHUNK_STATE, IntSerializer.INSTANCE);
        next.enableTimeToLive(StateTtlConfig.newBuilder(FINISHED_MARKER_TTL).build());
        nextChunk = getRuntimeContext().getState(next);
        earlyChunks = getRuntimeContext().getMapState(new MapStateDescriptor<>(EARLY_CHUNKS_STATE,
                Types.INT, TypeInformation.of(DocumentChunk.class)));
        var metrics = getRuntimeContext().getMetricGroup().addGroup("icecache");
        chunksDropped = metrics.counter("chunksDropped");
        chunksReordered = metrics.counter("chunksReordered");
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
        Integer stored = nextChunk.value();
        int expected = stored == null ? 0 : stored;
        if (expected == FINISHED || chunk.seq() < expected) {
            chunksDropped.inc(); // seen before: a replay
            return;
        }
        if (chunk.seq() > expected) {
            chunksReordered.inc();
            earlyChunks.put(chunk.seq(), chunk);
            return;
        }
        DocumentChunk next = chunk;
        while (next != null) {
            tokenize(next, out);
            if (next.last()) {
                earlyChunks.clear();
                nextChunk.update(FINISHED);
                return;
            }
            expected++;
            next = earlyChunks.get(expected);
            if (next != null) {
                earlyChunks.remove(expected);
            }
        }
        nextChunk.update(expected);
    }

    private void tokenize(DocumentChunk chunk, Collector<TokenChunk> out) throws Exception {
        TokenizerCarry carry = carries.value();
        if (carry == null) {
            carry = TokenizerCarry.START;
        }
        PromptTemplate prompt = settings.prompt();
        String text = chunk.seq() == 0 ? prompt.prefix().concat(chunk.text()) : chunk.text();
        if (chunk.last()) {
            text = text.concat(prompt.suffix());
        }
        StreamingTokenizer.Step step = tokenizer.accept(chunk.docId(), carry, text, chunk.last());
        if (step.chunk() != null) {
            out.collect(step.chunk());
        }
        if (chunk.last()) {
            carries.clear();
        } else {
            carries.update(step.carry());
        }
    }
}
