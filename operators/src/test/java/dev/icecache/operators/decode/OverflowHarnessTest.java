package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import dev.icecache.model.Sampler;
import dev.icecache.operators.TestModels;
import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.output.SummaryPiece;
import dev.icecache.operators.output.SummaryPiece.Kind;
import dev.icecache.operators.state.DocumentCache;
import dev.icecache.operators.tokenize.PromptTemplate;
import dev.icecache.operators.tokenize.TokenChunk;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Documents several times longer than the context through the keyed decoder, in refine and
 * map-reduce: every summary's text against an independent reference (the engine alone, one
 * plain prefill and greedy decode per context, segment boundaries and groups computed here by
 * brute force), the pieces' kinds, order and up_to, tokens read, and the same output after
 * snapshots taken mid segment prefill, mid segment summary and mid reduce step.
 */
class OverflowHarnessTest {

    /** A small context, so that a document of 1,200 tokens needs several. */
    private static final int CONTEXT = 256;
    private static final int MAX_TOKENS = 24;
    private static final int CHUNK = 30;
    private static final int DOCUMENT_TOKENS = 1200;
    /** Map-reduce segments of at most 80 document tokens: 15 summaries, reduced over two levels. */
    private static final int MAP_SEGMENT_TOKENS = 80;
    private static LlamaModel model;
    private static String modelPath;
    private static int[] instruction;

    @BeforeAll
    static void load() {
        modelPath = TestModels.require(TestModels.STORIES_GGUF).toString();
        model = SharedModels.acquire(modelPath, CONTEXT);
        instruction = PromptTemplate.parse("{document}\n\nSummary:").instructionTokens(model.tokenizer());
    }

    @AfterAll
    static void release() {
        SharedModels.release(modelPath, CONTEXT);
    }

    @Test
    void shouldKeepTheSegmentStateAFlinkPojo() {
        // NOTE: a generic (Kryo) type here would make stored state depend on Kryo's registrations
        assertInstanceOf(PojoTypeInfo.class, TypeInformation.of(SegmentProgress.class));
    }

    @ParameterizedTest
    @EnumSource(value = Policy.class, names = {"FULL", "ICECACHE"})
    void shouldRefineSegmentBySegmentAsTheEngineAlone(Policy policy) throws Exception {
        DecoderSettings settings = settings(policy, OverflowMode.REFINE, 0);
        int[] document = document(1);
        List<SummaryPiece> pieces = run(settings, document);
        checkAgainstReference(settings, document, pieces);
    }

    @ParameterizedTest
    @EnumSource(value = Policy.class, names = {"FULL", "ICECACHE"})
    void shouldMapThenReduceRecursivelyAsTheEngineAlone(Policy policy) throws Exception {
        DecoderSettings settings = settings(policy, OverflowMode.MAP_REDUCE, MAP_SEGMENT_TOKENS);
        int[] document = document(2);
        List<SummaryPiece> pieces = run(settings, document);
        List<Summary> expected = checkAgainstReference(settings, document, pieces);
        assertTrue(expected.stream().filter(s -> s.upTo() == document.length).count() >= 3,
                "at least two reduce steps and the final one: " + expected.size() + " summaries");
    }

    /** When a restore test takes its snapshot, after feeding its chunks. */
    enum SnapshotPoint {
        /** At once: mid segment prefill (the chunks that closed segments wait, their summaries not decoded). */
        PREFILL,
        /** After the third piece of segment summaries: mid a segment summary. */
        SEGMENT_SUMMARY,
        /** After the first piece of a reduce step (map-reduce). */
        REDUCE_STEP
    }

    /**
     * Snapshots after {@code chunks} chunks and the slices up to {@code point}, then the rest
     * fed after the restore: the output equals the uninterrupted run's.
     */
    @ParameterizedTest
    @CsvSource({"REFINE, 20, PREFILL", "REFINE, 9, SEGMENT_SUMMARY", "REFINE, 41, SEGMENT_SUMMARY",
                "MAP_REDUCE, 17, PREFILL", "MAP_REDUCE, 41, SEGMENT_SUMMARY", "MAP_REDUCE, 41, REDUCE_STEP"})
    void shouldContinueIdenticallyAfterARestore(OverflowMode mode, int chunks, SnapshotPoint point) throws Exception {
        DecoderSettings settings = settings(Policy.ICECACHE, mode, mode == OverflowMode.MAP_REDUCE
                ? MAP_SEGMENT_TOKENS : 0);
        int[] document = document(3);
        List<SummaryPiece> uninterrupted = run(settings, document);
        int total = (document.length + CHUNK - 1) / CHUNK;
        List<SummaryPiece> out = new ArrayList<>();
        OperatorSubtaskState snapshot;
        long t = 1;
        try (var harness = newHarness(settings)) {
            harness.open();
            for (int seq = 0; seq < chunks; seq++) {
                harness.processElement(chunk(document, seq), 0);
            }
            while (!reached(point, harness.extractOutputValues(), document.length)) {
                assertTrue(harness.numProcessingTimeTimers() > 0, "the document ended before " + point);
                harness.setProcessingTime(t++);
            }
            out.addAll(harness.extractOutputValues());
            snapshot = harness.snapshot(1, t);
        }
        assertFalse(out.stream().anyMatch(SummaryPiece::last), "the snapshot is taken before the end");
        try (var harness = newHarness(settings)) {
            harness.initializeState(snapshot);
            harness.open();
            for (int seq = chunks; seq < total; seq++) {
                harness.processElement(chunk(document, seq), 0);
                harness.setProcessingTime(t++);
            }
            for (; harness.numProcessingTimeTimers() > 0; t++) {
                harness.setProcessingTime(t);
            }
            out.addAll(harness.extractOutputValues());
            assertEquals(0, harness.numKeyedStateEntries(), "state cleared at the document's end");
        }
        assertEquals(DecoderTestData.withoutAttemptFigures(uninterrupted), DecoderTestData.withoutAttemptFigures(out),
                mode + " chunks=" + chunks + " " + point);
    }

    private static boolean reached(SnapshotPoint point, List<SummaryPiece> out, long documentTokens) {
        return switch (point) {
            case PREFILL -> true;
            case SEGMENT_SUMMARY -> out.stream().filter(p -> p.kind() == Kind.SEGMENT).count() >= 3;
            case REDUCE_STEP -> out.stream().anyMatch(p -> p.kind() == Kind.SEGMENT && p.upTo() == documentTokens);
        };
    }

    /**
     * Rolling summaries inside segments: rolling pieces while a segment is read, segment pieces
     * where it closes, then the final summary; every token read once, and a restore in the middle
     * gives the same output.
     */
    @Test
    void shouldGoOnWithRollingSummariesInsideEachSegment() throws Exception {
        DecoderSettings plain = settings(Policy.ICECACHE, OverflowMode.REFINE, 0);
        DecoderSettings settings = new DecoderSettings(modelPath, CONTEXT, 256, plain.prompt(),
                plain.generation().withRolling(64, 8), Policy.ICECACHE, 64, 2, PageFormat.F32, 1);
        int[] document = document(6);
        List<SummaryPiece> pieces = run(settings, document);
        List<Kind> kinds = pieces.stream().map(SummaryPiece::kind).distinct().toList();
        assertTrue(kinds.containsAll(List.of(Kind.ROLLING, Kind.SEGMENT, Kind.FINAL)), String.valueOf(kinds));
        for (int i = 0; i < pieces.size(); i++) {
            assertEquals(i, pieces.get(i).seq());
            assertNull(pieces.get(i).error());
            assertTrue(i == 0 || pieces.get(i).upTo() >= pieces.get(i - 1).upTo(), "up_to never goes back");
            assertEquals(pieces.get(i).kind() == Kind.FINAL, i >= pieces.size() - countFinal(pieces),
                    "the final summary's pieces come last");
        }
        SummaryPiece last = pieces.get(pieces.size() - 1);
        assertEquals(document.length + 1, last.stats().tokensIn(), "every document token read once, BOS included");
        assertTrue(last.stats().segments() >= 3, String.valueOf(last));

        List<SummaryPiece> out = new ArrayList<>();
        OperatorSubtaskState snapshot;
        long t = 1;
        try (var harness = newHarness(settings)) {
            harness.open();
            for (int seq = 0; seq < 20; seq++) {
                harness.processElement(chunk(document, seq), 0);
            }
            while (harness.extractOutputValues().stream().filter(p -> p.kind() == Kind.SEGMENT).count() < 2) {
                harness.setProcessingTime(t++);
            }
            out.addAll(harness.extractOutputValues());
            snapshot = harness.snapshot(1, t);
        }
        try (var harness = newHarness(settings)) {
            harness.initializeState(snapshot);
            harness.open();
            for (int seq = 20; seq * CHUNK < document.length; seq++) {
                harness.processElement(chunk(document, seq), 0);
                harness.setProcessingTime(t++);
            }
            for (; harness.numProcessingTimeTimers() > 0; t++) {
                harness.setProcessingTime(t);
            }
            out.addAll(harness.extractOutputValues());
        }
        assertEquals(DecoderTestData.withoutAttemptFigures(pieces), DecoderTestData.withoutAttemptFigures(out));
    }

    private static long countFinal(List<SummaryPiece> pieces) {
        return pieces.stream().filter(p -> p.kind() == Kind.FINAL).count();
    }

    @Test
    void shouldRejectWithTodaysErrorWhenOverflowIsReject() throws Exception {
        DecoderSettings settings = settings(Policy.ICECACHE, OverflowMode.REJECT, 0);
        List<SummaryPiece> pieces = run(settings, document(4));
        assertEquals(1, pieces.size(), String.valueOf(pieces));
        assertEquals("document rejected: its prompt has 301 tokens (BOS and template included) but"
                + " icecache.model.context allows 256 positions; raise --context (up to the model's training length)"
                + " or split the document", pieces.get(0).error());
        assertEquals(Kind.ONLY, pieces.get(0).kind());
    }

    @Test
    void shouldRejectWithAReasonWhenNoSegmentFitsBesideTheSummaries() throws Exception {
        DecoderSettings settings = settings(Policy.ICECACHE, OverflowMode.REFINE, 0);
        settings = new DecoderSettings(modelPath, CONTEXT, 256, settings.prompt(),
                new GenerationSettings(100, 0f, 1f, 1, 4), Policy.ICECACHE, 64, 2, PageFormat.F32, 1);
        List<SummaryPiece> pieces = run(settings, document(5));
        assertEquals(1, pieces.size(), String.valueOf(pieces));
        String error = pieces.get(0).error();
        assertTrue(error.startsWith("document rejected: its prompt has ") && error.contains("cannot be read in"
                + " segments either") && error.contains("lower --max-tokens"), error);
    }

    /** One summary as the reference computes it: its kind, up_to and tokens. */
    record Summary(Kind kind, long upTo, int[] tokens) {
    }

    /**
     * Checks the pieces against {@link #reference}; returns the reference's summaries.
     */
    private static List<Summary> checkAgainstReference(DecoderSettings settings, int[] document,
                                                       List<SummaryPiece> pieces) {
        List<Summary> expected = reference(settings, document);
        assertTrue(expected.size() >= 4, "the document needs several contexts: " + expected.size());
        for (int i = 0; i < pieces.size(); i++) {
            assertEquals(i, pieces.get(i).seq(), "pieces numbered 0, 1, 2, ...");
            assertEquals(i == pieces.size() - 1, pieces.get(i).last(), "only the last piece is final");
            assertNull(pieces.get(i).error());
        }
        int at = 0;
        for (int s = 0; s < expected.size(); s++) {
            Summary summary = expected.get(s);
            String want = new TextAssembler(model.tokenizer()::tokenBytes)
                    .append(new byte[0], summary.tokens(), 0, summary.tokens().length, true).text();
            StringBuilder text = new StringBuilder();
            // NOTE: pieces are never empty, so a summary's pieces are those that complete its text
            while (text.length() < want.length() && at < pieces.size() && pieces.get(at).kind() == summary.kind()
                    && pieces.get(at).upTo() == summary.upTo()) {
                text.append(pieces.get(at++).text());
            }
            assertEquals(want, text.toString(), "summary " + s + " (" + summary.kind() + " up to " + summary.upTo()
                    + ")");
        }
        assertEquals(pieces.size(), at, "no piece outside the expected summaries");
        SummaryPiece last = pieces.get(pieces.size() - 1);
        assertEquals(Kind.FINAL, last.kind());
        assertEquals(document.length + 1, last.stats().tokensIn(), "every document token read once, BOS included");
        assertEquals(expected.stream().mapToLong(x -> x.tokens().length).sum(), last.stats().tokensOut());
        assertEquals(expected.size(), last.stats().segments(), "one context per summary");
        return expected;
    }

    /**
     * The summaries a document gets, by brute force: chunks are laid into contexts by the rule of
     * {@link SegmentPlan} re-derived here (a chunk joins when the context keeps room for the
     * instruction and a summary; else the segment closes; a chunk too long for an empty segment is
     * split), and each context is one plain prefill and greedy decode of the engine alone.
     */
    private static List<Summary> reference(DecoderSettings settings, int[] document) {
        boolean refine = settings.generation().overflow() == OverflowMode.REFINE;
        int limit = settings.generation().segmentTokens();
        int s = settings.generation().maxTokens();
        List<Summary> out = new ArrayList<>();
        int[] carried = new int[0];
        int[] segment = new int[0];
        List<int[]> queue = new ArrayList<>();
        for (int seq = 0; seq * CHUNK < document.length; seq++) {
            queue.add(Arrays.copyOfRange(document, seq * CHUNK, Math.min(document.length, (seq + 1) * CHUNK)));
        }
        long read = 0;
        while (!queue.isEmpty()) {
            int[] chunk = queue.remove(0);
            boolean last = queue.isEmpty();
            int prefix = 1 + carried.length;
            int reserve = last ? s : instruction.length + s;
            boolean fits = prefix + segment.length + chunk.length + reserve <= CONTEXT
                    && (limit == 0 || segment.length + chunk.length <= limit);
            if (fits) {
                segment = concat(segment, chunk);
                read += chunk.length;
                continue;
            }
            if (segment.length == 0) {
                int head = Math.min(chunk.length - 1, CONTEXT - prefix - instruction.length - s);
                head = limit == 0 ? head : Math.min(head, limit);
                segment = Arrays.copyOf(chunk, head);
                read += head;
                queue.add(0, Arrays.copyOfRange(chunk, head, chunk.length));
            } else {
                queue.add(0, chunk);
            }
            int[] summary = generate(concat(carried, segment, instruction), s, settings);
            out.add(new Summary(Kind.SEGMENT, read, summary));
            carried = refine ? concat(instruction, summary) : new int[0];
            segment = new int[0];
        }
        int[] lastSummary = generate(concat(carried, segment), s, settings);
        if (refine) {
            out.add(new Summary(Kind.FINAL, read, lastSummary));
            return out;
        }
        out.add(new Summary(Kind.SEGMENT, read, lastSummary));
        List<int[]> level = new ArrayList<>(out.stream().map(Summary::tokens).toList());
        long capacity = CONTEXT - 1 - instruction.length - s;
        while (true) {
            List<int[]> next = new ArrayList<>();
            int i = 0;
            while (i < level.size()) {
                int j = i;
                long total = 0;
                while (j < level.size() && (j == i || total + level.get(j).length <= capacity)) {
                    total += level.get(j++).length;
                }
                if (i == 0 && j == level.size()) {
                    int[] fin = generate(concat(joined(level, 0, j), instruction), s, settings);
                    out.add(new Summary(Kind.FINAL, read, fin));
                    return out;
                }
                if (j == level.size() && j - i == 1) {
                    next.add(level.get(i)); // a lone summary left at the end goes up as it is
                } else {
                    int[] r = generate(concat(joined(level, i, j), instruction), s, settings);
                    out.add(new Summary(Kind.SEGMENT, read, r));
                    next.add(r);
                }
                i = j;
            }
            level = next;
        }
    }

    private static int[] joined(List<int[]> parts, int from, int to) {
        return concat(parts.subList(from, to).toArray(new int[0][]));
    }

    /** The engine alone over one context: BOS + prompt in one prefill, then greedy. */
    private static int[] generate(int[] prompt, int maxTokens, DecoderSettings settings) {
        KvCache cache = settings.policy() == Policy.FULL ? new FullCache(model.cacheShape())
                : new PagedKvCache(model.cacheShape(), settings.cacheConfig(),
                        new InMemoryPageStore(PageLayout.of(model.config().headDim()), PageFormat.F32),
                        DocumentCache.projection(model.config().headDim()));
        return DocumentSessionTest.engineAloneWith(model, cache, prompt, maxTokens, new Sampler(0f, 1f, 0));
    }

    private static int[] concat(int[]... parts) {
        return RollingReference.concat(parts);
    }

    private static List<SummaryPiece> run(DecoderSettings settings, int[] document) throws Exception {
        try (var harness = newHarness(settings)) {
            harness.open();
            long t = 1;
            for (int seq = 0; seq * CHUNK < document.length; seq++) {
                harness.processElement(chunk(document, seq), 0);
                harness.setProcessingTime(t++);
            }
            for (; harness.numProcessingTimeTimers() > 0; t++) {
                assertTrue(t < 10_000, "generation did not end");
                harness.setProcessingTime(t);
            }
            assertEquals(0, harness.numKeyedStateEntries(), "state cleared at the document's end");
            return harness.extractOutputValues();
        }
    }

    private static DecoderSettings settings(Policy policy, OverflowMode mode, int segmentTokens) {
        return new DecoderSettings(modelPath, CONTEXT, 256, PromptTemplate.parse("{document}\n\nSummary:"),
                new GenerationSettings(MAX_TOKENS, 0f, 1f, 1, 4).withOverflow(mode, segmentTokens), policy, 64, 2,
                PageFormat.F32, 1);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> newHarness(
            DecoderSettings settings) throws Exception {
        return DecoderTestData.newHarness(settings);
    }

    /** A document's tokens as the tokenizer step sends them: random text, then the instruction. */
    private static int[] document(long seed) {
        int n = seed == 4 || seed == 5 ? 300 - instruction.length : DOCUMENT_TOKENS;
        return concat(DecoderTestData.randomTokens(new SplittableRandom(seed), model.config().vocabSize(), n),
                instruction);
    }

    private static TokenChunk chunk(int[] document, int seq) {
        int end = Math.min(document.length, (seq + 1) * CHUNK);
        return new TokenChunk("a", seq, Arrays.copyOfRange(document, seq * CHUNK, end), end == document.length);
    }
}
