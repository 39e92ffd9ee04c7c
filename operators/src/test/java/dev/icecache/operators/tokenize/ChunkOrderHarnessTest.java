package dev.icecache.operators.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import dev.icecache.model.LlamaModel;
import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.decode.SharedModels;
import dev.icecache.operators.document.DocumentChunk;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The tokenizer step given duplicated, reordered and replayed chunks: the tokens of the text in order, once. */
class ChunkOrderHarnessTest {

    private static final String TEXT = ("Once upon a time there was a little fox. It liked to run in the woods and"
            + " look at the birds. One day it met a big bear, and they became friends.\n\n").repeat(6);
    private static final PromptTemplate PROMPT = TokenizerHarness.PROMPT;
    private static DecoderSettings settings;
    private static LlamaModel model;

    @BeforeAll
    static void load() {
        settings = TokenizerHarness.storiesSettings();
        model = SharedModels.acquire(settings.modelPath(), settings.contextLength());
    }

    @AfterAll
    static void release() {
        SharedModels.release(settings.modelPath(), settings.contextLength());
    }

    @Test
    void shouldTokenizeInSeqOrderWhenChunksAreShuffledAndDuplicated() throws Exception {
        List<DocumentChunk> chunks = chunks("doc");
        assertTrue(chunks.size() >= 8, "the text must make several chunks");
        int[] expected = model.tokenizer().encode(PROMPT.apply(TEXT));
        for (long seed = 1; seed <= 5; seed++) {
            Random random = new Random(seed);
            List<DocumentChunk> hostile = new ArrayList<>(chunks);
            for (int i = 0; i < 4; i++) {
                hostile.add(chunks.get(random.nextInt(chunks.size()))); // duplicates
            }
            Collections.shuffle(hostile, random);
            List<DocumentChunk> replayed = new ArrayList<>(hostile);
            replayed.addAll(chunks); // the whole document again after it finished
            try (var harness = newHarness()) {
                harness.open();
                for (DocumentChunk c : replayed) {
                    harness.processElement(c, 0);
                }
                List<TokenChunk> out = harness.extractOutputValues();
                assertArrayEquals(expected, concat(out), "tokens differ from the text in order, seed=" + seed);
                for (int i = 0; i < out.size(); i++) {
                    assertEquals(i, out.get(i).seq(), "token chunks numbered in order, seed=" + seed);
                    assertEquals(i == out.size() - 1, out.get(i).last(), "only the last is last, seed=" + seed);
                }
                assertEquals(1, harness.numKeyedStateEntries(), "only the finished marker is left, seed=" + seed);
            }
        }
    }

    private static List<DocumentChunk> chunks(String docId) throws IOException {
        return TokenizerHarness.chunks(TEXT, docId);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, DocumentChunk, TokenChunk> newHarness()
            throws Exception {
        return TokenizerHarness.create(settings);
    }

    private static int[] concat(List<TokenChunk> chunks) {
        int n = 0;
        for (TokenChunk c : chunks) {
            n += c.tokens().length;
        }
        int[] all = new int[n];
        int at = 0;
        for (TokenChunk c : chunks) {
            System.arraycopy(c.tokens(), 0, all, at, c.tokens().length);
            at += c.tokens().length;
        }
        return all;
    }
}
