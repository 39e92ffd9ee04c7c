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
import dev.icecache.operators.state.DocumentCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.Sampler;
import dev.icecache.operators.TestModels;
import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.output.SummaryPiece;
import dev.icecache.operators.tokenize.PromptTemplate;
import dev.icecache.operators.tokenize.TokenChunk;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The decoder under Flink's keyed operator harness: output, state leaks, snapshot/restore. */
class IceCacheDecoderHarnessTest {

    private static final int MAX_TOKENS = 40;
    private static DecoderSettings full;
    private static DecoderSettings iceCache;
    private static LlamaModel model;

    @BeforeAll
    static void settings() {
        String path = TestModels.require(TestModels.STORIES_GGUF).toString();
        full = settings(path, Policy.FULL);
        iceCache = settings(path, Policy.ICECACHE);
        model = SharedModels.acquire(path, TestModels.STORIES_CONTEXT);
    }

    private static DecoderSettings settings(String path, Policy policy) {
        return new DecoderSettings(path, TestModels.STORIES_CONTEXT, 256, new PromptTemplate("", ""),
                new GenerationSettings(MAX_TOKENS, 0f, 1f, 1, 6), policy, 64, 2, PageFormat.F32, 1);
    }

    @AfterAll
    static void release() {
        SharedModels.release(full.modelPath(), full.contextLength());
    }

    @ParameterizedTest
    @EnumSource(value = Policy.class, names = {"FULL", "ICECACHE"})
    void shouldEmitTheEngineAloneTextAndLeaveNoStateOrTimersBehind(Policy policy) throws Exception {
        DecoderSettings settings = policy == Policy.FULL ? full : iceCache;
        int[] prompt = randomTokens(1, 300);
        try (var harness = newHarness(settings)) {
            harness.open();
            feed(harness, "a", prompt, 0, prompt.length, 0, true);
            assertEquals(1, harness.numProcessingTimeTimers(), "one decode timer after the last chunk");
            runTimers(harness, 1);
            List<SummaryPiece> pieces = harness.extractOutputValues();
            assertEquals(expectedText(settings, prompt), joined(pieces));
            checkSequence(pieces, "a");
            assertEquals(0, harness.numKeyedStateEntries(), "state cleared at document end");
            assertEquals(0, harness.numProcessingTimeTimers(), "timers cleared at document end");
        }
    }

    @Test
    void shouldKeepTwoDocumentsApartWhenTheWorkingSetHoldsOne() throws Exception {
        int[] a = randomTokens(2, 150);
        int[] b = randomTokens(3, 170);
        try (var harness = newHarness(iceCache)) {
            harness.open();
            feed(harness, "a", a, 0, a.length, 0, true);
            feed(harness, "b", b, 0, b.length, 0, true);
            runTimers(harness, 1);
            List<SummaryPiece> out = harness.extractOutputValues();
            assertEquals(expectedText(iceCache, a), joined(only(out, "a")));
            assertEquals(expectedText(iceCache, b), joined(only(out, "b")));
            assertEquals(0, harness.numKeyedStateEntries());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Policy.class, names = {"FULL", "ICECACHE"})
    void shouldContinueIdenticallyAfterRestoreMidPrefillAndMidDecode(Policy policy) throws Exception {
        DecoderSettings settings = policy == Policy.FULL ? full : iceCache;
        int[] prompt = randomTokens(4, 300);
        int cut = 2 * DocumentSession.PREFILL_BATCH + 6; // two prefill passes run, six tokens held
        OperatorSubtaskState midPrefill;
        try (var harness = newHarness(settings)) {
            harness.open();
            feed(harness, "a", prompt, 0, cut, 0, false);
            midPrefill = harness.snapshot(1, 0);
            assertTrue(harness.numKeyedStateEntries() > 1, "pages and progress are in keyed state");
        }
        List<SummaryPiece> out = new ArrayList<>();
        OperatorSubtaskState midDecode;
        try (var harness = newHarness(settings)) {
            harness.initializeState(midPrefill);
            harness.open();
            feed(harness, "a", prompt, cut, prompt.length - cut, 1, true);
            harness.setProcessingTime(1); // one slice: each slice registers its successor a tick later
            out.addAll(harness.extractOutputValues());
            midDecode = harness.snapshot(2, 0);
        }
        assertFalse(out.isEmpty());
        assertFalse(out.get(out.size() - 1).last(), "snapshot taken while decoding");
        try (var harness = newHarness(settings)) {
            harness.initializeState(midDecode);
            harness.open();
            runTimers(harness, 2);
            out.addAll(harness.extractOutputValues());
            assertEquals(0, harness.numKeyedStateEntries());
        }
        checkSequence(out, "a");
        assertEquals(expectedText(settings, prompt), joined(out));
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> newHarness(
            DecoderSettings settings) throws Exception {
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(new DecoderOperator(new IceCacheDecoder(settings)),
                TokenChunk::docId, Types.STRING);
        // NOTE: heap backend: numKeyedStateEntries() is only implemented for it; RocksDB runs in the job tests
        harness.setStateBackend(new HashMapStateBackend());
        return harness;
    }

    /** Advances the clock a tick at a time until no decode timer is left. */
    private static void runTimers(KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> harness,
                                  long from) throws Exception {
        for (long t = from; harness.numProcessingTimeTimers() > 0; t++) {
            assertTrue(t < from + 10 * MAX_TOKENS, "generation did not end");
            harness.setProcessingTime(t);
        }
    }

    /** Sends prompt[from, from+len) in chunks of 25 tokens, with seq numbers from firstSeq. */
    private static void feed(KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> harness,
                             String doc, int[] prompt, int from, int len, int firstSeq, boolean last) throws Exception {
        int seq = firstSeq;
        for (int pos = from; pos < from + len; pos += 25) {
            int end = Math.min(from + len, pos + 25);
            harness.processElement(new TokenChunk(doc, seq++, Arrays.copyOfRange(prompt, pos, end),
                    last && end == from + len), 0);
        }
    }

    /** The engine alone with the same policy and budget: one prefill of BOS + prompt, then greedy steps. */
    private static String expectedText(DecoderSettings settings, int[] prompt) {
        KvCache cache = settings.policy() == Policy.FULL ? new FullCache(model.cacheShape())
                : new PagedKvCache(model.cacheShape(), settings.cacheConfig(),
                        new InMemoryPageStore(PageLayout.of(model.config().headDim()), settings.pageFormat()),
                        DocumentCache.projection(model.config().headDim()));
        int[] tokens = DocumentSessionTest.engineAloneWith(model, cache, prompt, MAX_TOKENS, new Sampler(0f, 1f, 0));
        StringBuilder text = new StringBuilder();
        TextAssembler assembler = new TextAssembler(model.tokenizer()::tokenBytes);
        text.append(assembler.append(new byte[0], tokens, 0, tokens.length, true).text());
        return text.toString();
    }

    private static void checkSequence(List<SummaryPiece> pieces, String doc) {
        for (int i = 0; i < pieces.size(); i++) {
            assertEquals(doc, pieces.get(i).docId());
            assertEquals(i, pieces.get(i).seq(), "pieces numbered 0, 1, 2, ...");
            assertEquals(i == pieces.size() - 1, pieces.get(i).last(), "only the last piece is final");
        }
        SummaryPiece last = pieces.get(pieces.size() - 1);
        assertTrue(last.stats().tokensOut() > 0 && last.stats().tokensOut() <= MAX_TOKENS);
    }

    private static List<SummaryPiece> only(List<SummaryPiece> pieces, String doc) {
        return DecoderTestData.only(pieces, doc);
    }

    private static String joined(List<SummaryPiece> pieces) {
        return DecoderTestData.joined(pieces);
    }

    private static int[] randomTokens(long seed, int n) {
        return DecoderTestData.randomTokens(new SplittableRandom(seed), model.config().vocabSize(), n);
    }
}
