package dev.icecache.bench.retrieval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.bench.fidelity.SharedModels;
import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Session;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Needle fetch and answers of single runs on stories260K, against expectations computed from positions and the engine. */
class RetrievalRunTest {

    private static final int CONTEXT = 512;
    private static final int ROWS = CacheConfig.PAGE_ROWS;

    private static LlamaModel model;
    private static HaystackGenerator generator;

    @BeforeAll
    static void load() throws IOException {
        model = LlamaModel.load(SharedModels.require(SharedModels.STORIES_260K), new LoadOptions(null, CONTEXT));
        generator = new HaystackGenerator(model.tokenizer(), Files.readString(SharedModels.STORY, StandardCharsets.UTF_8),
                CONTEXT);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    @Test
    void shouldFetchTheWholeValueUnderFullAndUnderAnOracleWhoseBudgetHoldsThePrompt() {
        for (int depth = 0; depth <= 100; depth += 25) {
            Haystack h = generator.generate(250, depth, depth % 50 == 0 ? 1 : 3, depth);
            for (CacheConfig config : new CacheConfig[] {CacheConfig.of(Policy.FULL, 64), CacheConfig.of(Policy.ORACLE, 256)}) {
                RetrievalRun.Attempt a = RetrievalRun.run(model, h, config, 1);
                String where = config.policy() + "@" + config.budgetTokens() + " depth=" + depth;
                assertEquals(1.0, a.fetchShare(), where);
                assertEquals(1.0, a.fetchedAll(), where);
                assertTrue(a.needleMass() > 0 && a.needleMass() < 1, where + " mass=" + a.needleMass());
            }
        }
    }

    @Test
    void shouldFetchWhatTheStreamingSinkAndRecentPagesHoldAndNothingElse() {
        boolean missedSome = false;
        for (int budget : new int[] {64, 128}) {
            for (int length : new int[] {300, 497}) {
                for (int depth = 0; depth <= 100; depth += 25) {
                    Haystack h = generator.generate(length, depth, 1, 31L * length + depth);
                    double expected = streamingShare(h, CacheConfig.of(Policy.STREAMING, budget));
                    RetrievalRun.Attempt a = RetrievalRun.run(model, h, CacheConfig.of(Policy.STREAMING, budget), 1);
                    String where = "budget=" + budget + " length=" + length + " depth=" + depth + " value at ["
                            + h.valueStart() + ", " + h.valueEnd() + ")";
                    assertEquals(expected, a.fetchShare(), 1e-12, where);
                    assertEquals(expected == 1.0 ? 1.0 : 0.0, a.fetchedAll(), where);
                    missedSome |= depth == 50 && length == 497 && a.fetchShare() < 1.0;
                }
            }
        }
        assertTrue(missedSome, "a needle in the middle of 497 tokens must fall outside a streaming budget of 64 or 128");
    }

    @Test
    void shouldFetchAValueInsideTheWindowAndNotOneFarBehindIt() {
        Haystack base = generator.generate(400, 50, 1, 5);
        int n = base.length();
        int[] nearEnd = Arrays.copyOfRange(base.prompt(), n - 12, n - 6);
        Haystack inWindow = new Haystack(base.prompt(), nearEnd, "", n - 12, n - 12, base.bodyStart(), base.bodyEnd(), 100, 1);
        Haystack farBack = new Haystack(base.prompt(), Arrays.copyOfRange(base.prompt(), 150, 156), "", 150, 150,
                base.bodyStart(), base.bodyEnd(), 50, 1);
        CacheConfig streaming = CacheConfig.of(Policy.STREAMING, 128);
        assertEquals(1.0, streamingShare(inWindow, streaming));
        assertEquals(0.0, streamingShare(farBack, streaming));
        assertEquals(1.0, RetrievalRun.run(model, inWindow, streaming, 1).fetchShare());
        assertEquals(0.0, RetrievalRun.run(model, farBack, streaming, 1).fetchShare());
    }

    /**
     * StreamingLLM at the last prompt position p, from positions alone: the sink, the newest
     * (budget pages - sink pages) positional pages of 16 after the sink among positions 0..p-1,
     * and p itself.
     */
    private static double streamingShare(Haystack h, CacheConfig config) {
        int p = h.length() - 1;
        int sink = config.sinkPages() * ROWS;
        int recentPages = config.budgetPages() - config.sinkPages();
        int newestPage = (p - 1 - sink) / ROWS;
        int recentFrom = sink + Math.max(0, newestPage - recentPages + 1) * ROWS;
        int hits = 0;
        for (int pos = h.valueStart(); pos < h.valueEnd(); pos++) {
            hits += pos < sink || pos >= recentFrom ? 1 : 0;
        }
        return (double) hits / (h.valueEnd() - h.valueStart());
    }

    @Test
    void shouldAnswerExactlyAsTheEngineDecodesWithTheFullCache() {
        for (int trial = 0; trial < 4; trial++) {
            Haystack h = generator.generate(180 + 70 * trial, 25 * trial, trial % 2 == 0 ? 1 : 4, 100 + trial);
            int[] engine = greedyWithFullCache(h);
            RetrievalRun.Attempt full = RetrievalRun.run(model, h, CacheConfig.of(Policy.FULL, 64)
                    .withPageFormat(dev.icecache.kvcache.page.PageFormat.F32), 1); // like the F32 FullCache
            assertArrayEquals(engine, full.answer(), "trial " + trial);
            RetrievalTally tally = new RetrievalTally();
            tally.add(Policy.FULL, 64, h, full, engine, full.needleMass());
            RetrievalTally.Sums s = tally.get(new RetrievalTally.Cell(Policy.FULL, RetrievalTally.ANY_BUDGET, h.length(),
                    h.depthPercent(), h.keys()));
            assertEquals(Arrays.equals(engine, h.answer()) ? 1 : 0, s.exact(), "trial " + trial);
            assertEquals(1, s.agrees(), "trial " + trial);
        }
    }

    /** The whole prompt in one prefill on a FullCache, then argmax decoding. */
    private static int[] greedyWithFullCache(Haystack h) {
        Session session = model.newSession(new FullCache(model.cacheShape()));
        float[] logits = session.prefill(h.prompt(), 0, h.length(), true);
        int[] answer = new int[h.answer().length];
        for (int i = 0; i < answer.length; i++) {
            int best = 0;
            for (int t = 1; t < logits.length; t++) {
                best = logits[t] > logits[best] ? t : best;
            }
            answer[i] = best;
            if (i + 1 < answer.length) {
                logits = session.step(best);
            }
        }
        return answer;
    }
}
