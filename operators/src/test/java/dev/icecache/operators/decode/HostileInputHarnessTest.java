package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import dev.icecache.kvcache.FullCache;
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
 * The decoder under documents longer than the context ({@code --overflow reject}, today's
 * behaviour kept as an option; {@link OverflowHarnessTest} reads them in segments),
 * generations that reach the context, and
 * 100 documents at once on one subtask with a working set of 4.
 */
class HostileInputHarnessTest {

    private static final int MAX_TOKENS = 40;
    private static final int CONTEXT = TestModels.STORIES_CONTEXT;
    private static LlamaModel model;
    private static String path;

    @BeforeAll
    static void load() {
        path = TestModels.require(TestModels.STORIES_GGUF).toString();
        model = SharedModels.acquire(path, CONTEXT);
    }

    @AfterAll
    static void release() {
        SharedModels.release(path, CONTEXT);
    }

    private static DecoderSettings settings(Policy policy, int workingSet) {
        return new DecoderSettings(path, CONTEXT, 256, new PromptTemplate("", ""),
                new GenerationSettings(MAX_TOKENS, 0f, 1f, 1, 6).withOverflow(OverflowMode.REJECT, 0), policy, 64, 2,
                PageFormat.F32, workingSet);
    }

    @Test
    void shouldRejectAPromptLongerThanTheContextWithAnErrorPieceWhileOthersFinish() throws Exception {
        DecoderSettings settings = settings(Policy.ICECACHE, 2);
        int[] tooLong = randomTokens(11, CONTEXT + 88); // BOS makes it CONTEXT + 89 positions
        int[] fine = randomTokens(12, 120);
        OperatorSubtaskState midway;
        List<SummaryPiece> out = new ArrayList<>();
        try (var harness = newHarness(settings)) {
            harness.open();
            feed(harness, "fine", fine, 0, 60, 0, false);
            feed(harness, "long", tooLong, 0, CONTEXT + 25, 0, false); // past the context: rejected here
            midway = harness.snapshot(1, 0);
            out.addAll(harness.extractOutputValues());
        }
        assertTrue(out.isEmpty(), "nothing is emitted before a document's last chunk: " + out);
        try (var harness = newHarness(settings)) {
            harness.initializeState(midway);
            harness.open();
            feed(harness, "long", tooLong, CONTEXT + 25, tooLong.length - CONTEXT - 25, chunks(CONTEXT + 25), true);
            feed(harness, "fine", fine, 60, fine.length - 60, chunks(60), true);
            runTimers(harness, 1);
            out.addAll(harness.extractOutputValues());
            assertEquals(0, harness.numKeyedStateEntries(), "state of both documents cleared");
            assertEquals(0, harness.numProcessingTimeTimers());
        }
        List<SummaryPiece> rejected = only(out, "long");
        assertEquals(1, rejected.size(), "one piece for the rejected document: " + rejected);
        SummaryPiece error = rejected.get(0);
        assertTrue(error.last() && error.seq() == 0 && error.text().isEmpty(), error.toString());
        assertEquals(tooLong.length + 1, error.stats().tokensIn(), "every prompt token counted, BOS included");
        assertEquals(0, error.stats().tokensOut());
        assertTrue(error.error().contains("prompt has " + (tooLong.length + 1) + " tokens")
                && error.error().contains(IceCacheOptions.MODEL_CONTEXT.key() + " allows " + CONTEXT), error.error());
        assertTrue(error.toJsonLine().contains(",\"error\":\"document rejected: "), error.toJsonLine());
        assertEquals(expectedText(settings, fine, MAX_TOKENS), joined(only(out, "fine")));
        only(out, "fine").forEach(p -> assertNull(p.error()));
    }

    @Test
    void shouldStopGeneratingWhenTheContextIsFull() throws Exception {
        DecoderSettings settings = settings(Policy.FULL, 1);
        int prompt = CONTEXT - 12;
        int[] tokens = randomTokens(13, prompt);
        try (var harness = newHarness(settings)) {
            harness.open();
            feed(harness, "edge", tokens, 0, prompt, 0, true);
            runTimers(harness, 1);
            List<SummaryPiece> out = harness.extractOutputValues();
            // BOS + prompt take CONTEXT - 11 positions; the first token needs none, each next one
            // feeds its predecessor back: 11 more fit, so 12 tokens at most
            int fits = CONTEXT - (prompt + 1) + 1;
            assertEquals(expectedText(settings, tokens, fits), joined(out));
            SummaryPiece last = out.get(out.size() - 1);
            assertTrue(last.last() && last.stats().tokensOut() <= fits, last.toString());
            assertEquals(0, harness.numKeyedStateEntries());
        }
    }

    @Test
    void shouldFinishOneHundredConcurrentDocumentsWithinAWorkingSetOfFour() throws Exception {
        int workingSet = 4;
        DecoderSettings settings = settings(Policy.ICECACHE, workingSet);
        int documents = 100;
        Map<String, int[]> prompts = new LinkedHashMap<>();
        for (int d = 0; d < documents; d++) {
            prompts.put("doc-" + d, randomTokens(100 + d, 60 + 3 * d));
        }
        IceCacheDecoder decoder = new IceCacheDecoder(settings);
        Map<String, Long> startNanos = new LinkedHashMap<>();
        long[] latencyNanos = new long[documents];
        List<SummaryPiece> out = new ArrayList<>();
        try (var harness = new KeyedOneInputStreamOperatorTestHarness<>(new DecoderOperator(decoder),
                TokenChunk::docId, Types.STRING)) {
            harness.setStateBackend(new HashMapStateBackend());
            harness.open();
            // chunks of all documents interleaved: every document is open at once
            for (int round = 0; ; round++) {
                boolean any = false;
                for (var e : prompts.entrySet()) {
                    int from = round * 25;
                    int[] p = e.getValue();
                    if (from < p.length) {
                        any = true;
                        startNanos.putIfAbsent(e.getKey(), System.nanoTime());
                        int end = Math.min(p.length, from + 25);
                        harness.processElement(new TokenChunk(e.getKey(), round, Arrays.copyOfRange(p, from, end),
                                end == p.length), 0);
                        assertTrue(decoder.peakLiveDocuments() <= workingSet, "working set exceeded");
                    }
                }
                if (!any) {
                    break;
                }
            }
            for (long t = 1; harness.numProcessingTimeTimers() > 0; t++) {
                assertTrue(t < 10L * MAX_TOKENS * documents, "generation did not end");
                harness.setProcessingTime(t);
                for (SummaryPiece p : harness.extractOutputValues()) {
                    if (p.last()) {
                        int d = Integer.parseInt(p.docId().substring(4));
                        latencyNanos[d] = System.nanoTime() - startNanos.get(p.docId());
                    }
                    out.add(p);
                }
                harness.getOutput().clear();
            }
            assertEquals(0, harness.numKeyedStateEntries(), "every document's state cleared");
        }
        assertEquals(workingSet, decoder.peakLiveDocuments(), "the working set filled up and held");
        for (var e : prompts.entrySet()) {
            List<SummaryPiece> pieces = only(out, e.getKey());
            assertTrue(!pieces.isEmpty() && pieces.get(pieces.size() - 1).last(), e.getKey() + " did not finish");
            assertEquals(expectedText(settings, e.getValue(), MAX_TOKENS), joined(pieces), e.getKey());
        }
        long[] sorted = latencyNanos.clone();
        Arrays.sort(sorted);
        System.out.printf("load: %d concurrent documents, working set %d: all finished; latency from first chunk"
                        + " to final piece p50=%.0f ms p90=%.0f ms max=%.0f ms%n", documents, workingSet,
                sorted[documents / 2] / 1e6, sorted[documents * 9 / 10] / 1e6, sorted[documents - 1] / 1e6);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> newHarness(
            DecoderSettings settings) throws Exception {
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(new DecoderOperator(new IceCacheDecoder(settings)),
                TokenChunk::docId, Types.STRING);
        harness.setStateBackend(new HashMapStateBackend());
        return harness;
    }

    private static void runTimers(KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> harness,
                                  long from) throws Exception {
        for (long t = from; harness.numProcessingTimeTimers() > 0; t++) {
            assertTrue(t < from + 20 * MAX_TOKENS, "generation did not end");
            harness.setProcessingTime(t);
        }
    }

    /** Chunks {@link #feed} makes of {@code tokens} tokens. */
    private static int chunks(int tokens) {
        return (tokens + 24) / 25;
    }

    private static void feed(KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> harness,
                             String doc, int[] prompt, int from, int len, int firstSeq, boolean last) throws Exception {
        int seq = firstSeq;
        for (int pos = from; pos < from + len; pos += 25) {
            int end = Math.min(from + len, pos + 25);
            harness.processElement(new TokenChunk(doc, seq++, Arrays.copyOfRange(prompt, pos, end),
                    last && end == from + len), 0);
        }
    }

    private static String expectedText(DecoderSettings settings, int[] prompt, int maxTokens) {
        var cache = settings.policy() == Policy.FULL ? new FullCache(model.cacheShape())
                : new PagedKvCache(model.cacheShape(), settings.cacheConfig(),
                        new InMemoryPageStore(PageLayout.of(model.config().headDim()), settings.pageFormat()),
                        DocumentCache.projection(model.config().headDim()));
        int[] tokens = DocumentSessionTest.engineAloneWith(model, cache, prompt, maxTokens, new Sampler(0f, 1f, 0));
        return new TextAssembler(model.tokenizer()::tokenBytes).append(new byte[0], tokens, 0, tokens.length, true)
                .text();
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
