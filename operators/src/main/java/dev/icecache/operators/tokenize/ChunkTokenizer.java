package dev.icecache.operators.tokenize;

import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.decode.SharedModels;
import dev.icecache.operators.document.DocumentChunk;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The keyed tokenizer step (key = document id): puts the prompt template around the document
 * and tokenizes it with {@link StreamingTokenizer}, keeping the unfinished tail in keyed state,
 * so the tokens equal tokenizing the whole prompt text at once. State is cleared at the
 * document's last chunk.
 */
public final class ChunkTokenizer extends KeyedProcessFunction<String, DocumentChunk, TokenChunk> {

    private static final long serialVersionUID = 1L;

    /** Name of the per-document carry state. */
    static final String CARRY_STATE = "icecache-tokenizer-carry";

    private final DecoderSettings settings;
    private transient StreamingTokenizer tokenizer;
    private transient ValueState<TokenizerCarry> carries;

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
