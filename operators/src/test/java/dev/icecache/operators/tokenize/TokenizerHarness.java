package dev.icecache.operators.tokenize;

import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.operators.TestModels;
import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.decode.GenerationSettings;
import dev.icecache.operators.document.DocumentChunk;
import dev.icecache.operators.document.TextChunker;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

/** The keyed tokenizer step under Flink's test harness, with stories260K and small chunks. */
final class TokenizerHarness {

    /** The prompt every tokenizer harness test wraps its document in. */
    static final PromptTemplate PROMPT = PromptTemplate.parse("{document}\n\nSummary:");
    /** Characters per chunk: small, so a few paragraphs make many chunks. */
    static final int CHUNK_CHARS = 64;

    private TokenizerHarness() {
    }

    /** Settings for stories260K (a skip, or a failure when CI=true, without the shared models). */
    static DecoderSettings storiesSettings() {
        String path = TestModels.require(TestModels.STORIES_GGUF).toString();
        return new DecoderSettings(path, TestModels.STORIES_CONTEXT, CHUNK_CHARS, PROMPT,
                new GenerationSettings(8, 0f, 1f, 1, 4), Policy.FULL, 64, 2, PageFormat.F32, 1);
    }

    /** {@code text} as the file source would chunk it, in order. */
    static List<DocumentChunk> chunks(String text, String docId) throws IOException {
        TextChunker chunker = new TextChunker(new StringReader(text), docId, CHUNK_CHARS);
        List<DocumentChunk> out = new ArrayList<>();
        for (DocumentChunk c = chunker.next(); c != null; c = chunker.next()) {
            out.add(c);
        }
        return out;
    }

    /** A harness (not yet opened) around a {@link ChunkTokenizer} with {@code settings}, heap state. */
    static KeyedOneInputStreamOperatorTestHarness<String, DocumentChunk, TokenChunk> create(DecoderSettings settings)
            throws Exception {
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new ChunkTokenizer(settings)), DocumentChunk::docId, Types.STRING);
        harness.setStateBackend(new HashMapStateBackend());
        return harness;
    }
}
