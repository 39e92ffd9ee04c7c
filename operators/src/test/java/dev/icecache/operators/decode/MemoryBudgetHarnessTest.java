package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.Sampler;
import dev.icecache.operators.TestModels;
import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.config.IceCacheOptions;
import dev.icecache.operators.output.SummaryPiece;
import dev.icecache.operators.state.DocumentCache;
import dev.icecache.operators.state.MapStatePageStore;
import dev.icecache.operators.tokenize.PromptTemplate;
import dev.icecache.operators.tokenize.TokenChunk;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The decoder bounded by bytes ({@code icecache.memory.budget}): documents that do not all fit
 * are unloaded and restored, queued while the live ones decode, and each finishes exactly as
 * the engine alone, also across a failure; a document that can never fit gets one error line.
 */
class MemoryBudgetHarnessTest {

    private static final int MAX_TOKENS = 24;
    private static final int DOCUMENTS = 6;
    private static final int PROMPT = 300;
    private static final int CHUNK = 25;
    private static LlamaModel model;
    private static String path;

    @BeforeAll
    static void load() {
        path = TestModels.require(TestModels.STORIES_GGUF).toString();
        model = SharedModels.acquire(path, TestModels.STORIES_CONTEXT);
    }

    @AfterAll
    static void release() {
        SharedModels.release(path, TestModels.STORIES_CONTEXT);
    }

    private static DecoderSettings settings(long budget) {
        return new DecoderSettings(path, TestModels.STORIES_CONTEXT, 256, new PromptTemplate("", ""),
                new GenerationSettings(MAX_TOKENS, 0f, 1f, 1, 6), Policy.ICECACHE, 64, 2, PageFormat.F32, 8)
                .withMemoryBudget(budget);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> harness(
            IceCacheDecoder decoder) throws Exception {
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(new DecoderOperator(decoder), TokenChunk::docId,
                Types.STRING);
        harness.setStateBackend(new HashMapStateBackend());
        return harness;
    }

    private static int[][] prompts() {
        int[][] prompts = new int[DOCUMENTS][];
        for (int d = 0; d < DOCUMENTS; d++) {
            prompts[d] = DecoderTestData.randomTokens(new SplittableRandom(100 + d), model.config().vocabSize(),
                    PROMPT);
        }
        return prompts;
    }

    /** Heap one document holds after its whole prompt, measured under an ample budget. */
    private static long oneDocumentBytes(int[] prompt) throws Exception {
        IceCacheDecoder decoder = new IceCacheDecoder(settings(1L << 30));
        try (var h = harness(decoder)) {
            h.open();
            h.processElement(new TokenChunk("one", 0, prompt, false), 0);
            return decoder.admission().liveBytes();
        }
    }

    /** Sends every document's chunks interleaved (chunk 0 of each, then chunk 1, ...), checking the bound after each. */
    private static void feedInterleaved(KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> h,
                                        IceCacheDecoder decoder, int[][] prompts, long budget) throws Exception {
        for (int c = 0; c * CHUNK < PROMPT; c++) {
            for (int d = 0; d < DOCUMENTS; d++) {
                int end = Math.min(PROMPT, (c + 1) * CHUNK);
                h.processElement(new TokenChunk("doc" + d, c, Arrays.copyOfRange(prompts[d], c * CHUNK, end),
                        end == PROMPT), 0);
                assertTrue(decoder.admission().liveBytes() <= budget, "live bytes "
                        + decoder.admission().liveBytes() + " over the budget " + budget + " after a chunk");
            }
        }
    }

    /** Advances the clock until no timer is left (or, with {@code stopAfterPieces} > 0, until that many pieces). */
    private static void runTimers(KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> h,
                                  IceCacheDecoder decoder, long budget, int stopAfterPieces) throws Exception {
        long t = h.getProcessingTime();
        while (h.numProcessingTimeTimers() > 0
                && (stopAfterPieces == 0 || h.extractOutputValues().size() < stopAfterPieces)) {
            assertTrue(t < 50_000_000, "generation did not end");
            h.setProcessingTime(++t);
            assertTrue(decoder.admission().liveBytes() <= budget, "live bytes over the budget after a slice");
        }
    }

    private static String expected(int[] prompt) {
        DecoderSettings s = settings(1L << 30);
        PagedKvCache cache = new PagedKvCache(model.cacheShape(), s.cacheConfig(),
                new InMemoryPageStore(PageLayout.of(model.config().headDim()), s.pageFormat()),
                DocumentCache.projection(model.config().headDim()));
        int[] tokens = DocumentSessionTest.engineAloneWith(model, cache, prompt, MAX_TOKENS, new Sampler(0f, 1f, 0));
        return new TextAssembler(model.tokenizer()::tokenBytes).append(new byte[0], tokens, 0, tokens.length, true)
                .text();
    }

    @Test
    void shouldFinishEveryDocumentWithinTheBudgetAsTheEngineAloneWouldAndAcrossAFailure() throws Exception {
        int[][] prompts = prompts();
        long budget = oneDocumentBytes(prompts[0]) * 5 / 2; // about two documents
        List<SummaryPiece> out = new ArrayList<>();
        OperatorSubtaskState snapshot;
        IceCacheDecoder first = new IceCacheDecoder(settings(budget));
        try (var h = harness(first)) {
            h.open();
            feedInterleaved(h, first, prompts, budget);
            assertTrue(first.admission().restores() > 0, "six documents in a budget of two unload and restore");
            assertTrue(first.admission().liveCount() <= 2, "whole prompts: at most two documents live, not "
                    + first.admission().liveCount());
            runTimers(h, first, budget, 2 * DOCUMENTS);
            out.addAll(h.extractOutputValues());
            snapshot = h.snapshot(1, h.getProcessingTime());
        }
        // failure: a new instance restores the snapshot and goes on
        IceCacheDecoder second = new IceCacheDecoder(settings(budget));
        try (var h = harness(second)) {
            h.initializeState(snapshot);
            h.open();
            runTimers(h, second, budget, 0);
            out.addAll(h.extractOutputValues());
            assertEquals(0, h.numKeyedStateEntries(), "state cleared at every document's end");
            assertTrue(second.admission().restores() > 0, "unfinished documents restored after the failure");
        }
        for (int d = 0; d < DOCUMENTS; d++) {
            List<SummaryPiece> pieces = DecoderTestData.only(out, "doc" + d);
            for (int i = 0; i < pieces.size(); i++) {
                assertEquals(i, pieces.get(i).seq(), "doc" + d + " pieces in order, once each");
            }
            assertTrue(pieces.get(pieces.size() - 1).last(), "doc" + d + " finished");
            assertEquals(expected(prompts[d]), DecoderTestData.joined(pieces), "doc" + d);
        }
    }

    /**
     * Page writes are held until the element ends within what the budget leaves free for it (the
     * live bytes and the chunk's estimated growth taken off), never less than the store's least bound.
     */
    @Test
    void shouldHoldPageWritesWithinTheBudgetsRoomForTheElement() throws Exception {
        int[] prompt = prompts()[0];
        for (long budget : new long[] {1L << 30, 64L << 20, 1L << 20}) {
            IceCacheDecoder decoder = new IceCacheDecoder(settings(budget));
            try (var h = harness(decoder)) {
                h.open();
                h.processElement(new TokenChunk("d", 0, Arrays.copyOfRange(prompt, 0, CHUNK), false), 0);
                long room = budget - decoder.admission().liveBytes() - decoder.admission().estimateGrowth(CHUNK);
                h.processElement(new TokenChunk("d", 1, Arrays.copyOfRange(prompt, CHUNK, 2 * CHUNK), false), 0);
                long limit = decoder.admission().get("d").store.pendingLimit();
                assertEquals(Math.max(MapStatePageStore.MIN_PENDING_BYTES, room), limit, "budget " + budget);
            }
        }
    }

    @Test
    void shouldRejectADocumentThatCanNeverFitWithOneLineNamingTheOption() throws Exception {
        int[] prompt = prompts()[0];
        long budget = 16 << 10; // less than one document's resident pool
        IceCacheDecoder decoder = new IceCacheDecoder(settings(budget));
        try (var h = harness(decoder)) {
            h.open();
            for (int c = 0; c * CHUNK < PROMPT; c++) {
                int end = Math.min(PROMPT, (c + 1) * CHUNK);
                h.processElement(new TokenChunk("big", c, Arrays.copyOfRange(prompt, c * CHUNK, end), end == PROMPT),
                        0);
            }
            List<SummaryPiece> out = h.extractOutputValues();
            assertEquals(1, out.size(), "one final piece");
            SummaryPiece piece = out.get(0);
            assertTrue(piece.last());
            assertNotNull(piece.error());
            assertTrue(piece.error().contains(IceCacheOptions.MEMORY_BUDGET.key()) && piece.error().contains("raise"),
                    piece.error());
            assertEquals(PROMPT + 1, piece.stats().tokensIn(), "every chunk counted, BOS included");
            assertEquals(0, h.numKeyedStateEntries(), "nothing left in state");
            assertEquals(0, h.numProcessingTimeTimers());
            assertEquals(0, decoder.admission().liveCount());
        }
    }
}
