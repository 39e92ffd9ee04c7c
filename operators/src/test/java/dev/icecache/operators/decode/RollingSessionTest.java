package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.operators.TestModels;
import dev.icecache.operators.state.DocumentCache;
import dev.icecache.operators.state.PersistentFullCache;
import dev.icecache.operators.tokenize.PromptTemplate;
import dev.icecache.operators.tokenize.PromptTokens;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Rolling summaries in {@link DocumentSession} with the real stories260K model, no Flink. */
class RollingSessionTest {

    private static final int EVERY = GenerationSettings.MIN_ROLLING_EVERY;
    private static LlamaModel model;
    private static int[] instruction;

    @BeforeAll
    static void load() throws Exception {
        model = LlamaModel.load(TestModels.require(TestModels.STORIES_GGUF),
                new LoadOptions(null, TestModels.STORIES_CONTEXT));
        instruction = PromptTemplate.parse("{document}\n\nSummary:").instructionTokens(model.tokenizer());
    }

    @ParameterizedTest
    @EnumSource(value = Policy.class, names = {"FULL", "ICECACHE"})
    void shouldEqualTheEngineAloneSegmentBySegmentForAnyChunking(Policy policy) {
        for (long seed = 1; seed <= 12; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            int[] document = randomTokens(random, 180 + random.nextInt(120));
            int[] sizes = chunkSizes(random, document.length);
            int rollingMax = 3 + random.nextInt(10);
            int slice = 1 + random.nextInt(7);
            GenerationSettings g = new GenerationSettings(20, 0f, 1f, 1, slice).withRolling(EVERY, rollingMax);
            List<RollingReference.Summary> expected = RollingReference.run(model, newCache(policy), document, sizes,
                    EVERY, instruction, rollingMax, 20);
            List<RollingReference.Summary> got = runSession(DocumentSession.start(model, null, newCache(policy), g,
                    instruction, "d"), document, sizes, slice);
            String where = "seed=" + seed + " policy=" + policy + " sizes=" + Arrays.toString(sizes);
            assertTrue(expected.size() >= 3, "the document is long enough for rolling summaries; " + where);
            assertEquals(expected.size(), got.size(), "summaries; " + where);
            for (int i = 0; i < expected.size(); i++) {
                assertEquals(expected.get(i).upTo(), got.get(i).upTo(), "upTo of summary " + i + "; " + where);
                assertEquals(expected.get(i).rolling(), got.get(i).rolling(), "kind of summary " + i + "; " + where);
                assertArrayEquals(expected.get(i).tokens(), got.get(i).tokens(), "tokens of summary " + i + "; " + where);
            }
        }
    }

    @Test
    void shouldCloseEachRollingSummaryWithTheChatsTurnTokensAsTheEngineAlone() {
        // a chat's turns around the instruction, after each rolling summary and at the document's start
        int[] close = {11, 12, 13};
        int[] resume = {14, 15, 16, 17};
        int[] chatInstruction = RollingReference.concat(instruction, close);
        PromptTokens chat = new PromptTokens(new int[] {18, 19}, instruction, chatInstruction, close, resume, false,
                true);
        for (long seed = 1; seed <= 6; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            int[] document = RollingReference.concat(chat.open(), randomTokens(random, 200 + random.nextInt(100)),
                    chatInstruction);
            int[] sizes = chunkSizes(random, document.length);
            int rollingMax = 3 + random.nextInt(10);
            GenerationSettings g = new GenerationSettings(20, 0f, 1f, 1, 5).withRolling(EVERY, rollingMax);
            List<RollingReference.Summary> expected = RollingReference.run(model, newCache(Policy.ICECACHE), document,
                    sizes, EVERY, chat, rollingMax, 20);
            List<RollingReference.Summary> got = runSession(DocumentSession.start(model, null,
                    newCache(Policy.ICECACHE), g, chat, "d"), document, sizes, 5);
            String where = "seed=" + seed + " sizes=" + Arrays.toString(sizes);
            assertTrue(expected.size() >= 3, "the document is long enough for rolling summaries; " + where);
            assertEquals(expected.size(), got.size(), "summaries; " + where);
            for (int i = 0; i < expected.size(); i++) {
                assertEquals(expected.get(i).upTo(), got.get(i).upTo(), "upTo of summary " + i + "; " + where);
                assertArrayEquals(expected.get(i).tokens(), got.get(i).tokens(), "tokens of summary " + i + "; " + where);
            }
        }
        // the resume tokens are held after a rolling summary, before the document goes on
        GenerationSettings g = new GenerationSettings(4, 0f, 1f, 1, 4).withRolling(EVERY, 2);
        DocumentSession doc = DocumentSession.start(model, null, newCache(Policy.FULL), g, chat, "d");
        doc.prefill(randomTokens(new SplittableRandom(3), EVERY), false);
        int[] summary = decodeSummary(doc, 2);
        assertEquals(2, summary.length);
        int[] held = doc.progress().heldTokens();
        assertArrayEquals(RollingReference.concat(new int[] {summary[1]}, resume), held,
                "the summary's last token (not fed back yet), then the chat's resume tokens");
    }

    @Test
    void shouldCoverEveryPassedMultipleWithOneSummaryWhenAChunkIsLong() {
        GenerationSettings g = new GenerationSettings(4, 0f, 1f, 1, 4).withRolling(EVERY, 2);
        DocumentSession doc = DocumentSession.start(model, null, newCache(Policy.FULL), g, instruction, "d");
        doc.prefill(randomTokens(new SplittableRandom(5), 3 * EVERY + 10), false);
        assertTrue(doc.summarizing(), "a chunk past the first multiple starts a rolling summary");
        decodeSummary(doc, 4);
        assertFalse(doc.summarizing());
        doc.prefill(randomTokens(new SplittableRandom(6), EVERY - 11), false);
        assertFalse(doc.summarizing(), "4 * EVERY - 1 document tokens: the next multiple is not reached yet");
        doc.prefill(new int[] {7}, false);
        assertTrue(doc.summarizing(), "exactly 4 * EVERY document tokens");
    }

    @Test
    void shouldRefusePrefillWhileARollingSummaryIsDecoded() {
        GenerationSettings g = new GenerationSettings(4, 0f, 1f, 1, 4).withRolling(EVERY, 8);
        DocumentSession doc = DocumentSession.start(model, null, newCache(Policy.FULL), g, instruction, "d");
        doc.prefill(randomTokens(new SplittableRandom(7), EVERY), false);
        assertTrue(doc.summarizing());
        assertThrows(IllegalStateException.class, () -> doc.prefill(new int[] {5}, false));
    }

    @Test
    void shouldRefuseRollingSummariesWithoutAnInstruction() {
        GenerationSettings g = new GenerationSettings(4, 0f, 1f, 1, 4).withRolling(EVERY, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DocumentSession.start(model, null, newCache(Policy.FULL), g, new int[0], "d"));
        assertTrue(e.getMessage().contains("instruction"), e.getMessage());
    }

    @Test
    void shouldCountSummariesAndInstructionsAgainstTheContext() {
        GenerationSettings g = new GenerationSettings(4, 0f, 1f, 1, 4).withRolling(EVERY, 8);
        DocumentSession doc = DocumentSession.start(model, null, newCache(Policy.FULL), g, instruction, "d");
        doc.prefill(randomTokens(new SplittableRandom(8), EVERY), false);
        int generated = decodeSummary(doc, 3).length;
        // BOS + EVERY document tokens + the instruction + the summary (its last token not fed yet)
        assertEquals(1 + EVERY + instruction.length + generated, doc.positionsNeeded(0));
        assertEquals(1 + EVERY, doc.promptTokens());
    }

    /** Runs the chunks through a session, decoding each summary at once, as timers would between chunks. */
    private static List<RollingReference.Summary> runSession(DocumentSession doc, int[] document, int[] sizes,
                                                            int slice) {
        List<RollingReference.Summary> out = new ArrayList<>();
        int at = 0;
        for (int c = 0; c < sizes.length; c++) {
            boolean last = c == sizes.length - 1;
            doc.prefill(Arrays.copyOfRange(document, at, at + sizes[c]), last);
            at += sizes[c];
            if (doc.summarizing() || last) {
                long upTo = doc.documentTokens();
                out.add(new RollingReference.Summary(upTo, !last, decodeSummary(doc, slice)));
            }
        }
        assertTrue(doc.finished());
        return out;
    }

    /** Decodes the current summary to its end in slices. */
    private static int[] decodeSummary(DocumentSession doc, int slice) {
        boolean rolling = doc.summarizing();
        int[] out = new int[0];
        int[] buf = new int[slice];
        while (rolling ? doc.summarizing() : !doc.finished()) {
            int n = doc.decode(slice, buf);
            out = RollingReference.concat(out, Arrays.copyOf(buf, n));
        }
        return out;
    }

    private static int[] chunkSizes(SplittableRandom random, int total) {
        List<Integer> sizes = new ArrayList<>();
        for (int left = total; left > 0; ) {
            int n = Math.min(left, 1 + random.nextInt(60));
            sizes.add(n);
            left -= n;
        }
        return sizes.stream().mapToInt(Integer::intValue).toArray();
    }

    private static KvCache newCache(Policy policy) {
        if (policy == Policy.FULL) {
            return new PersistentFullCache(model.cacheShape(),
                    new InMemoryPageStore(PageLayout.of(model.config().headDim()), PageFormat.F32), 0);
        }
        return new PagedKvCache(model.cacheShape(), CacheConfig.of(policy, 64),
                new InMemoryPageStore(PageLayout.of(model.config().headDim()), CacheConfig.DEFAULT_PAGE_FORMAT),
                DocumentCache.projection(model.config().headDim()));
    }

    private static int[] randomTokens(SplittableRandom random, int n) {
        return DecoderTestData.randomTokens(random, model.config().vocabSize(), n);
    }
}
