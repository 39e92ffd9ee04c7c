package dev.icecache.operators.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.tokenizer.Tokenizer;
import dev.icecache.model.tokenizer.Tokenizers;
import dev.icecache.operators.TestModels;
import dev.icecache.operators.document.DocumentChunk;
import dev.icecache.operators.document.TextChunker;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Chunked tokenization equals whole-text tokenization, with the real stories260K tokenizer. */
class StreamingTokenizerRealTextTest {

    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        LlamaModel model = LlamaModel.load(TestModels.require(TestModels.STORIES_GGUF), LoadOptions.defaults());
        tokenizer = Tokenizers.create(model.vocabulary());
    }

    @Test
    void shouldEqualWholeTextTokensForEveryChunkSize() throws IOException {
        for (String name : new String[] {"lighthouse.txt", "garden.txt"}) {
            String text = resource(name);
            int[] whole = tokenizer.encode(text);
            StreamingTokenizer streaming = new StreamingTokenizer(tokenizer);
            for (int chunkChars = TextChunker.MIN_CHUNK_CHARS; chunkChars < 700; chunkChars += 37) {
                assertArrayEquals(whole, streamed(streaming, text, chunkChars), name + " chunkChars=" + chunkChars);
            }
        }
    }

    @Test
    void shouldEqualWholeTextTokensForRandomTextWithTemplate() throws IOException {
        PromptTemplate template = PromptTemplate.parse("Story:\n{document}\n\nSummary:");
        StreamingTokenizer streaming = new StreamingTokenizer(tokenizer);
        String[] words = {"the", "cat", "sat", ".", ",", " ", " ", "  ", "\n", "\n\n", "naïve", "日本", "\t", "!", "42"};
        for (long seed = 1; seed <= 60; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            StringBuilder sb = new StringBuilder();
            int n = random.nextInt(0, 300);
            while (sb.length() < n) {
                sb.append(words[random.nextInt(words.length)]);
            }
            String doc = sb.toString();
            int[] whole = tokenizer.encode(template.apply(doc));
            int[] got = streamedWithTemplate(streaming, template, doc, 16 + random.nextInt(80));
            assertArrayEquals(whole, got, "seed=" + seed + " doc=" + doc);
        }
    }

    private static int[] streamed(StreamingTokenizer streaming, String text, int chunkChars) throws IOException {
        return streamedWithTemplate(streaming, new PromptTemplate("", ""), text, chunkChars);
    }

    /** What ChunkTokenizer does: prefix on chunk 0, suffix on the last chunk. */
    private static int[] streamedWithTemplate(StreamingTokenizer streaming, PromptTemplate template, String text,
                                              int chunkChars) throws IOException {
        TextChunker chunker = new TextChunker(new StringReader(text), "d", chunkChars);
        TokenizerCarry carry = TokenizerCarry.START;
        int[] out = new int[0];
        for (DocumentChunk c = chunker.next(); c != null; c = chunker.next()) {
            String piece = c.seq() == 0 ? template.prefix() + c.text() : c.text();
            if (c.last()) {
                piece += template.suffix();
            }
            StreamingTokenizer.Step step = streaming.accept("d", carry, piece, c.last());
            carry = step.carry();
            if (step.chunk() != null) {
                int[] t = step.chunk().tokens();
                int[] joined = java.util.Arrays.copyOf(out, out.length + t.length);
                System.arraycopy(t, 0, joined, out.length, t.length);
                out = joined;
            }
        }
        return out;
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = StreamingTokenizerRealTextTest.class.getResourceAsStream("/texts/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
