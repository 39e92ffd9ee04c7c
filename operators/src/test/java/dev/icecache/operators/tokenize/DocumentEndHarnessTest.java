package dev.icecache.operators.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.icecache.model.LlamaModel;
import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.decode.SharedModels;
import dev.icecache.operators.document.DocumentChunk;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Documents the tokenizer ends before their last chunk: by the idle timeout (processing time
 * driven by the harness, no sleeps) or by a malformed record; the tokens are those of the text
 * that arrived, and state and timers are gone afterwards.
 */
class DocumentEndHarnessTest {

    private static final String TEXT = ("The old lighthouse keeper climbed the stairs every night. He lit the lamp"
            + " and watched the ships pass by the rocks.\n\n").repeat(4);
    private static final PromptTemplate PROMPT = TokenizerHarness.PROMPT;
    private static final Duration IDLE = Duration.ofSeconds(10);
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
    void shouldEndAnIdleDocumentWithTheChunksThatArrivedInSeqOrder() throws Exception {
        List<DocumentChunk> chunks = chunks("a");
        assertTrue(chunks.size() >= 5, "the text must make several chunks");
        try (var harness = newHarness(IDLE)) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(chunks.get(0), 0);
            harness.setProcessingTime(1_000);
            harness.processElement(chunks.get(3), 0); // waits behind the gap at seq 2
            harness.setProcessingTime(2_000);
            harness.processElement(chunks.get(1), 0);
            harness.setProcessingTime(2_000 + IDLE.toMillis() - 1);
            assertTrue(ends(harness).isEmpty(), "ended before the timeout");
            harness.setProcessingTime(2_000 + IDLE.toMillis());

            String arrived = chunks.get(0).text() + chunks.get(1).text() + chunks.get(3).text();
            assertTokens(PROMPT.apply(arrived), harness.extractOutputValues());
            List<DocumentEnd> ends = ends(harness);
            assertEquals(1, ends.size());
            assertTrue(ends.get(0).decoded());
            assertEquals("ended after idle timeout of 10 s: no final chunk received; summarized the 3 chunk(s) that"
                    + " arrived (1 missing before the last of them)", ends.get(0).note());
            assertEquals(1, harness.numKeyedStateEntries(), "only the finished marker is left");
            assertEquals(0, harness.numProcessingTimeTimers(), "no timer is left");

            int before = harness.extractOutputValues().size();
            harness.processElement(chunks.get(2), 0); // too late: the document is over
            assertEquals(before, harness.extractOutputValues().size(), "a chunk after the end is dropped");
        }
    }

    @Test
    void shouldRestartTheIdleTimerOnEveryChunk() throws Exception {
        List<DocumentChunk> chunks = chunks("b");
        try (var harness = newHarness(IDLE)) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(chunks.get(0), 0);
            harness.setProcessingTime(8_000);
            harness.processElement(chunks.get(1), 0);
            harness.setProcessingTime(15_000);
            assertTrue(ends(harness).isEmpty(), "a chunk at 8 s must push the timeout to 18 s");
            assertEquals(1, harness.numProcessingTimeTimers(), "one timer per unfinished document");
            harness.setProcessingTime(18_000);
            assertEquals(1, ends(harness).size());
        }
    }

    @Test
    void shouldEndNormallyWithoutANoteWhenTheLastChunkComesInTime() throws Exception {
        List<DocumentChunk> chunks = chunks("c");
        try (var harness = newHarness(IDLE)) {
            harness.open();
            harness.setProcessingTime(0);
            for (DocumentChunk c : chunks) {
                harness.processElement(c, 0);
            }
            assertEquals(0, harness.numProcessingTimeTimers(), "the finished document's timer is deleted");
            harness.setProcessingTime(10 * IDLE.toMillis());
            assertTokens(PROMPT.apply(TEXT), harness.extractOutputValues());
            assertEquals(List.of(new DocumentEnd("c", null, true)), ends(harness));
        }
    }

    @Test
    void shouldRegisterNoTimerWithoutAnIdleTimeout() throws Exception {
        try (var harness = newHarness(Duration.ZERO)) {
            harness.open();
            harness.processElement(chunks("d").get(0), 0);
            assertEquals(0, harness.numProcessingTimeTimers());
            harness.setProcessingTime(Long.MAX_VALUE / 2);
            assertTrue(ends(harness).isEmpty(), "without a timeout a document waits forever");
        }
    }

    @Test
    void shouldEndTheIdleDocumentAfterARestore() throws Exception {
        List<DocumentChunk> chunks = chunks("e");
        OperatorSubtaskState snapshot;
        List<TokenChunk> out = new ArrayList<>();
        try (var harness = newHarness(IDLE)) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(chunks.get(0), 0);
            harness.processElement(chunks.get(1), 0);
            snapshot = harness.snapshot(1, 1);
            out.addAll(harness.extractOutputValues());
        }
        try (var restored = newHarness(IDLE)) {
            restored.initializeState(snapshot);
            restored.open();
            restored.setProcessingTime(IDLE.toMillis());
            out.addAll(restored.extractOutputValues());
            assertTokens(PROMPT.apply(chunks.get(0).text() + chunks.get(1).text()), out);
            assertEquals(1, ends(restored).size(), "the timer and the carry came back with the state");
        }
    }

    @Test
    void shouldEndADocumentAtItsMalformedRecordWithWhatArrived() throws Exception {
        List<DocumentChunk> chunks = chunks("f");
        try (var harness = newHarness(Duration.ZERO)) {
            harness.open();
            harness.processElement(chunks.get(0), 0);
            harness.processElement(chunks.get(1), 0);
            harness.processElement(DocumentChunk.malformed("f", "record t/0@7 is bad"), 0);
            assertTokens(PROMPT.apply(chunks.get(0).text() + chunks.get(1).text()), harness.extractOutputValues());
            assertEquals(List.of(new DocumentEnd("f", "record t/0@7 is bad; summarized the 2 chunk(s) that arrived",
                    true)), ends(harness));
            assertEquals(1, harness.numKeyedStateEntries(), "only the finished marker is left");
        }
    }

    @Test
    void shouldReportAMalformedRecordOfAnUnseenDocumentWithoutDecodingIt() throws Exception {
        try (var harness = newHarness(IDLE)) {
            harness.open();
            harness.processElement(DocumentChunk.malformed("t/1@3", "record t/1@3 has no key"), 0);
            assertTrue(harness.extractOutputValues().isEmpty(), "nothing to decode");
            List<DocumentEnd> ends = ends(harness);
            assertEquals(1, ends.size());
            assertFalse(ends.get(0).decoded());
            assertEquals("record t/1@3 has no key; no chunk of the document arrived", ends.get(0).note());
            assertEquals(0, harness.numProcessingTimeTimers());
        }
    }

    @Test
    void shouldReportAMalformedRecordOfAFinishedDocumentOnItsOwn() throws Exception {
        try (var harness = newHarness(Duration.ZERO)) {
            harness.open();
            for (DocumentChunk c : chunks("g")) {
                harness.processElement(c, 0);
            }
            int tokenChunks = harness.extractOutputValues().size();
            harness.processElement(DocumentChunk.malformed("g", "late junk"), 0);
            assertEquals(tokenChunks, harness.extractOutputValues().size(), "the finished document is not touched");
            List<DocumentEnd> ends = ends(harness);
            assertEquals(new DocumentEnd("g", null, true), ends.get(0));
            assertEquals(new DocumentEnd("g", "late junk; the document had already ended", false), ends.get(1));
        }
    }

    @Test
    void shouldEndUnfinishedDocumentsWhenABoundedInputEnds() throws Exception {
        List<DocumentChunk> h = chunks("h");
        List<DocumentChunk> i = chunks("i");
        try (var harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new TokenizerOperator(new ChunkTokenizer(settings.withDocumentIdleTimeout(IDLE))),
                DocumentChunk::docId, Types.STRING)) {
            harness.setStateBackend(new HashMapStateBackend());
            harness.open();
            harness.processElement(h.get(0), 0);
            harness.processElement(h.get(1), 0);
            harness.processElement(i.get(2), 0); // only a chunk that waits for seq 0 and 1
            for (DocumentChunk c : chunks("j")) {
                harness.processElement(c, 0);
            }
            int before = harness.extractOutputValues().size();
            harness.endInput();

            List<TokenChunk> hTokens = new ArrayList<>();
            List<TokenChunk> iTokens = new ArrayList<>();
            for (TokenChunk c : harness.extractOutputValues()) {
                (c.docId().equals("h") ? hTokens : c.docId().equals("i") ? iTokens : new ArrayList<TokenChunk>()).add(c);
            }
            assertTokens(PROMPT.apply(h.get(0).text() + h.get(1).text()), hTokens);
            assertTokens(PROMPT.apply(i.get(2).text()), iTokens);
            assertTrue(harness.extractOutputValues().size() > before, "the unfinished documents were closed");
            List<DocumentEnd> ends = ends(harness);
            assertEquals(List.of(new DocumentEnd("j", null, true),
                    new DocumentEnd("h", "the input ended before its final chunk; summarized the 2 chunk(s) that"
                            + " arrived", true),
                    new DocumentEnd("i", "the input ended before its final chunk; summarized the 1 chunk(s) that"
                            + " arrived (2 missing before the last of them)", true)), ends);
            assertEquals(0, harness.numProcessingTimeTimers(), "the idle timers of the ended documents are gone");
            assertEquals(3, harness.numKeyedStateEntries(), "only the three finished markers are left");
        }
    }

    private static void assertTokens(String promptText, List<TokenChunk> out) {
        int[] expected = model.tokenizer().encode(promptText);
        int n = 0;
        for (TokenChunk c : out) {
            n += c.tokens().length;
        }
        int[] all = new int[n];
        int at = 0;
        for (int i = 0; i < out.size(); i++) {
            TokenChunk c = out.get(i);
            assertEquals(i, c.seq(), "token chunks numbered in order");
            assertEquals(i == out.size() - 1, c.last(), "only the last token chunk is last");
            System.arraycopy(c.tokens(), 0, all, at, c.tokens().length);
            at += c.tokens().length;
        }
        assertArrayEquals(expected, all, "tokens differ from tokenizing the text that arrived");
    }

    private static List<DocumentEnd> ends(KeyedOneInputStreamOperatorTestHarness<String, DocumentChunk, TokenChunk> h) {
        List<DocumentEnd> ends = new ArrayList<>();
        var side = h.getSideOutput(ChunkTokenizer.DOCUMENT_ENDS);
        if (side != null) {
            for (StreamRecord<DocumentEnd> r : side) {
                ends.add(r.getValue());
            }
        }
        return ends;
    }

    private static List<DocumentChunk> chunks(String docId) throws IOException {
        return TokenizerHarness.chunks(TEXT, docId);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, DocumentChunk, TokenChunk> newHarness(
            Duration idle) throws Exception {
        return TokenizerHarness.create(settings.withDocumentIdleTimeout(idle));
    }
}
