package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.LlamaModel;
import dev.icecache.operators.TestModels;
import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.output.SummaryPiece;
import dev.icecache.operators.output.SummaryPiece.Kind;
import dev.icecache.operators.state.DocumentCache;
import dev.icecache.operators.tokenize.PromptTemplate;
import dev.icecache.operators.tokenize.TokenChunk;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Rolling summaries through the keyed decoder under Flink's harness: the pieces' order, kinds
 * and coverage, their text against the engine alone, chunks that wait during a summary,
 * documents evicted from the working set mid-summary, and snapshots taken mid-summary.
 */
class RollingSummaryHarnessTest {

    private static final int EVERY = 64;
    private static final int ROLLING_MAX = 8;
    private static final int FINAL_MAX = 20;
    private static final int CHUNK = 25;
    /** 9 chunks of 25 document tokens, then a last one of 5 plus the instruction. */
    private static final int DOCUMENT_TOKENS = 230;
    /** The chunk boundaries at or after 64, 128 and 192 document tokens. */
    private static final long[] ROLLING_UP_TO = {75, 150, 200};
    private static LlamaModel model;
    private static String modelPath;
    private static int[] instruction;

    @BeforeAll
    static void load() {
        modelPath = TestModels.require(TestModels.STORIES_GGUF).toString();
        model = SharedModels.acquire(modelPath, TestModels.STORIES_CONTEXT);
        instruction = PromptTemplate.parse("{document}\n\nSummary:").instructionTokens(model.tokenizer());
    }

    @AfterAll
    static void release() {
        SharedModels.release(modelPath, TestModels.STORIES_CONTEXT);
    }

    @ParameterizedTest
    @EnumSource(value = Policy.class, names = {"FULL", "ICECACHE"})
    void shouldEmitRollingThenFinalPiecesEqualToTheEngineAlone(Policy policy) throws Exception {
        int[] document = document(1);
        List<SummaryPiece> pieces;
        try (var harness = newHarness(settings(policy, 1))) {
            harness.open();
            feed(harness, "a", document, 0);
            runTimers(harness, 1);
            pieces = harness.extractOutputValues();
            assertEquals(0, harness.numKeyedStateEntries(), "state cleared at document end");
            assertEquals(0, harness.numProcessingTimeTimers(), "timers cleared at document end");
        }
        checkAgainstEngine(policy, document, pieces, "a");
    }

    @Test
    void shouldGiveTheSameOutputWhenChunksArriveBetweenSlices() throws Exception {
        int[] document = document(2);
        List<SummaryPiece> pieces;
        try (var harness = newHarness(settings(Policy.ICECACHE, 1))) {
            harness.open();
            long t = 1;
            for (int seq = 0; seq * CHUNK < document.length; seq++) {
                harness.processElement(chunk("a", document, seq), 0);
                harness.setProcessingTime(t++); // at most one slice per chunk: some chunks wait, some do not
            }
            runTimers(harness, t);
            pieces = harness.extractOutputValues();
            assertEquals(0, harness.numKeyedStateEntries());
        }
        checkAgainstEngine(Policy.ICECACHE, document, pieces, "a");
    }

    @Test
    void shouldKeepTwoDocumentsApartWhenEvictedFromTheWorkingSetMidSummary() throws Exception {
        int[] a = document(3);
        int[] b = document(4);
        List<SummaryPiece> pieces;
        try (var harness = newHarness(settings(Policy.ICECACHE, 1))) {
            harness.open();
            long t = 1;
            for (int seq = 0; seq * CHUNK < a.length; seq++) {
                harness.processElement(chunk("a", a, seq), 0);
                harness.processElement(chunk("b", b, seq), 0);
                harness.setProcessingTime(t++);
            }
            runTimers(harness, t);
            pieces = harness.extractOutputValues();
            assertEquals(0, harness.numKeyedStateEntries());
        }
        checkAgainstEngine(Policy.ICECACHE, a, only(pieces, "a"), "a");
        checkAgainstEngine(Policy.ICECACHE, b, only(pieces, "b"), "b");
    }

    @Test
    void shouldRejectTheDocumentAfterItsRollingPiecesWhenSummariesFillTheContext() throws Exception {
        // with --overflow reject (refine, the default, would read it in segments)
        // 470 document tokens fit in 512 positions, but not with seven rolling summaries and their instructions
        SplittableRandom random = new SplittableRandom(6);
        int[] document = new int[470];
        for (int i = 0; i < document.length; i++) {
            document[i] = 3 + random.nextInt(model.config().vocabSize() - 3);
        }
        List<SummaryPiece> pieces;
        DecoderSettings reject = settings(Policy.ICECACHE, 1);
        reject = new DecoderSettings(modelPath, reject.contextLength(), reject.chunkChars(), reject.prompt(),
                reject.generation().withOverflow(OverflowMode.REJECT, 0), Policy.ICECACHE, 64, 2, PageFormat.F32, 1);
        try (var harness = newHarness(reject)) {
            harness.open();
            feed(harness, "a", document, 0);
            runTimers(harness, 1);
            pieces = harness.extractOutputValues();
            assertEquals(0, harness.numKeyedStateEntries(), "state cleared after the rejection");
        }
        SummaryPiece last = pieces.get(pieces.size() - 1);
        assertTrue(last.last() && last.error() != null && last.error().contains("rolling summaries"),
                String.valueOf(last));
        assertEquals(Kind.FINAL, last.kind());
        assertEquals(document.length + 1, last.stats().tokensIn(), "every chunk counted, BOS included");
        assertTrue(pieces.size() > 1, "rolling pieces came before the rejection");
        for (int i = 0; i < pieces.size() - 1; i++) {
            assertEquals(Kind.ROLLING, pieces.get(i).kind());
            assertEquals(i, pieces.get(i).seq());
        }
        assertEquals(pieces.size() - 1, last.seq(), "the error piece continues the numbering");
    }

    /** Snapshots after {@code ticks} slices: mid first summary with chunks waiting, mid second, mid final. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 5, 9})
    void shouldContinueIdenticallyAfterRestoreFromASnapshotTakenMidSummary(int ticks) throws Exception {
        DecoderSettings settings = settings(Policy.ICECACHE, 1);
        int[] document = document(5);
        List<SummaryPiece> uninterrupted;
        try (var harness = newHarness(settings)) {
            harness.open();
            feed(harness, "a", document, 0);
            runTimers(harness, 1);
            uninterrupted = harness.extractOutputValues();
        }
        List<SummaryPiece> out = new ArrayList<>();
        OperatorSubtaskState snapshot;
        try (var harness = newHarness(settings)) {
            harness.open();
            feed(harness, "a", document, 0);
            for (long t = 1; t <= ticks; t++) {
                harness.setProcessingTime(t);
            }
            out.addAll(harness.extractOutputValues());
            assertEquals(1, harness.numProcessingTimeTimers(), "a summary is being decoded at the snapshot");
            snapshot = harness.snapshot(1, ticks);
        }
        assertFalse(out.stream().anyMatch(SummaryPiece::last));
        try (var harness = newHarness(settings)) {
            harness.initializeState(snapshot);
            harness.open();
            runTimers(harness, ticks + 1);
            out.addAll(harness.extractOutputValues());
            assertEquals(0, harness.numKeyedStateEntries());
        }
        assertEquals(withoutAttemptFigures(uninterrupted), withoutAttemptFigures(out), "ticks before the snapshot=" + ticks);
        checkAgainstEngine(Policy.ICECACHE, document, out, "a");
    }

    /** Checks order, kinds, coverage and text of a document's pieces against {@link RollingReference}. */
    private static void checkAgainstEngine(Policy policy, int[] document, List<SummaryPiece> pieces, String doc) {
        int[] sizes = chunkSizes(document.length);
        List<RollingReference.Summary> expected = RollingReference.run(model, newCache(policy), document, sizes,
                EVERY, instruction, ROLLING_MAX, FINAL_MAX);
        assertEquals(ROLLING_UP_TO.length + 1, expected.size(), "the reference's summaries");
        for (int i = 0; i < pieces.size(); i++) {
            assertEquals(doc, pieces.get(i).docId());
            assertEquals(i, pieces.get(i).seq(), "pieces numbered 0, 1, 2, ...");
            assertEquals(i == pieces.size() - 1, pieces.get(i).last(), "only the last piece is final");
        }
        int at = 0;
        for (int s = 0; s < expected.size(); s++) {
            RollingReference.Summary summary = expected.get(s);
            long upTo = s < ROLLING_UP_TO.length ? ROLLING_UP_TO[s] : document.length;
            assertEquals(upTo, summary.upTo());
            Kind kind = summary.rolling() ? Kind.ROLLING : Kind.FINAL;
            StringBuilder text = new StringBuilder();
            while (at < pieces.size() && pieces.get(at).kind() == kind && pieces.get(at).upTo() == upTo) {
                text.append(pieces.get(at++).text());
            }
            String want = new TextAssembler(model.tokenizer()::tokenBytes)
                    .append(new byte[0], summary.tokens(), 0, summary.tokens().length, true).text();
            assertFalse(want.isEmpty(), "each summary of this document has text");
            assertEquals(want, text.toString(), kind + " summary up to " + upTo);
        }
        assertEquals(pieces.size(), at, "no piece outside the expected summaries");
        SummaryPiece last = pieces.get(pieces.size() - 1);
        assertEquals(DOCUMENT_TOKENS + instruction.length + 1, last.stats().tokensIn(), "prompt tokens, BOS included");
        long generated = expected.stream().mapToLong(x -> x.tokens().length).sum();
        assertEquals(generated, last.stats().tokensOut(), "tokens of all summaries");
    }

    private static DecoderSettings settings(Policy policy, int workingSet) {
        return new DecoderSettings(modelPath, TestModels.STORIES_CONTEXT, 256,
                PromptTemplate.parse("{document}\n\nSummary:"),
                new GenerationSettings(FINAL_MAX, 0f, 1f, 1, 3).withRolling(EVERY, ROLLING_MAX), policy, 64, 2,
                PageFormat.F32, workingSet);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> newHarness(
            DecoderSettings settings) throws Exception {
        return DecoderTestData.newHarness(settings);
    }

    /** A document's tokens as the tokenizer step would send them: random text, then the instruction. */
    private static int[] document(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] t = new int[DOCUMENT_TOKENS];
        for (int i = 0; i < t.length; i++) {
            t[i] = 3 + random.nextInt(model.config().vocabSize() - 3);
        }
        return RollingReference.concat(t, instruction);
    }

    private static int[] chunkSizes(int total) {
        int n = (total + CHUNK - 1) / CHUNK;
        int[] sizes = new int[n];
        Arrays.fill(sizes, CHUNK);
        sizes[n - 1] = total - (n - 1) * CHUNK;
        return sizes;
    }

    private static TokenChunk chunk(String doc, int[] document, int seq) {
        int end = Math.min(document.length, (seq + 1) * CHUNK);
        return new TokenChunk(doc, seq, Arrays.copyOfRange(document, seq * CHUNK, end), end == document.length);
    }

    private static void feed(KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> harness,
                             String doc, int[] document, int firstSeq) throws Exception {
        for (int seq = firstSeq; seq * CHUNK < document.length; seq++) {
            harness.processElement(chunk(doc, document, seq), 0);
        }
    }

    private static void runTimers(KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> harness,
                                  long from) throws Exception {
        for (long t = from; harness.numProcessingTimeTimers() > 0; t++) {
            assertTrue(t < from + 1000, "generation did not end");
            harness.setProcessingTime(t);
        }
    }

    private static KvCache newCache(Policy policy) {
        return policy == Policy.FULL ? new FullCache(model.cacheShape())
                : new PagedKvCache(model.cacheShape(), settings(policy, 1).cacheConfig(),
                        new InMemoryPageStore(PageLayout.of(model.config().headDim()), PageFormat.F32),
                        DocumentCache.projection(model.config().headDim()));
    }

    private static List<SummaryPiece> only(List<SummaryPiece> pieces, String doc) {
        return DecoderTestData.only(pieces, doc);
    }

    private static List<String> withoutAttemptFigures(List<SummaryPiece> pieces) {
        return DecoderTestData.withoutAttemptFigures(pieces);
    }
}
