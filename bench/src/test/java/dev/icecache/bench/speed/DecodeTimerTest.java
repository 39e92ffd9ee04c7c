package dev.icecache.bench.speed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Session;
import dev.icecache.model.synthetic.RandomModels;
import dev.icecache.model.synthetic.SyntheticVocabulary;
import dev.icecache.model.tensor.GgmlType;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DecodeTimerTest {

    /** A tiny random Llama: 4 layers, 4 heads, 2 KV heads of 16 floats; context 2048. */
    private static final RandomModels.Shape TINY = new RandomModels.Shape(64, 128, 4, 4, 2,
            SyntheticVocabulary.MIN_SIZE + 50, 2048);

    @TempDir
    static Path dir;
    static Path modelFile;

    @BeforeAll
    static void writeModel() throws Exception {
        modelFile = dir.resolve("tiny.gguf");
        RandomModels.write(modelFile, TINY, GgmlType.F32, 3L, true);
    }

    @Test
    void shouldDecodeOverATimedCacheExactlyAsOverTheCacheItself() throws Exception {
        try (LlamaModel model = LlamaModel.load(modelFile, LoadOptions.defaults())) {
            FullCache plain = new FullCache(model.cacheShape());
            FullCache inner = new FullCache(model.cacheShape());
            new SyntheticContext(model.cacheShape(), 2).fill(plain, 300, 4, null);
            new SyntheticContext(model.cacheShape(), 2).fill(inner, 300, 4, null);
            TimedKvCache timed = new TimedKvCache(inner);
            float[] a = model.newSession(plain).step(5).clone();
            float[] b = model.newSession(timed).step(5).clone();
            assertArrayEquals(a, b);
            assertTrue(timed.attendNanos() > 0 && timed.appendNanos() > 0, "both calls were timed");
            assertEquals(301, timed.length());
        }
    }

    @Test
    void shouldSplitEveryStepOfAPagedCacheIntoIndexMovesAndAttention() throws Exception {
        try (LlamaModel model = LlamaModel.load(modelFile, LoadOptions.defaults())) {
            LongContextSpeed speed = new LongContextSpeed(model, 64, 1);
            LongContextSpeed.Point p = speed.measure(1500, Policy.ICECACHE, 1, 3, null);
            assertEquals(3, p.steps().length);
            for (StepSplit s : p.steps()) {
                assertTrue(s.index() > 0, "1500 tokens exceed a 64-token budget, so each step searches: " + s);
                assertTrue(s.attention() > 0, "attention timed: " + s);
                assertEquals(s.total(), s.index() + s.moves() + s.attention() + s.append() + s.model(), "parts sum: " + s);
            }
        }
    }

    @Test
    void shouldReportNoIndexTimeForTheFullCache() throws Exception {
        try (LlamaModel model = LlamaModel.load(modelFile, LoadOptions.defaults())) {
            LongContextSpeed.Point p = new LongContextSpeed(model, 64, 1).measure(500, Policy.FULL, 0, 2, null);
            for (StepSplit s : p.steps()) {
                assertEquals(0, s.index());
                assertEquals(0, s.moves());
            }
            assertEquals(LongContextSpeed.fullBytes(model.cacheShape(), 500), p.residentBytes());
        }
    }

    @Test
    void shouldRejectAContextBeyondTheModelsLength() throws Exception {
        try (LlamaModel model = LlamaModel.load(modelFile, LoadOptions.defaults())) {
            LongContextSpeed speed = new LongContextSpeed(model, 64, 1);
            assertThrows(IllegalArgumentException.class, () -> speed.measure(2045, Policy.FULL, 1, 5, null));
        }
    }

    @Test
    void shouldPickTheMedianStepByTotal() {
        StepSplit a = new StepSplit(30, 1, 0, 0, 0);
        StepSplit b = new StepSplit(10, 2, 0, 0, 0);
        StepSplit c = new StepSplit(20, 3, 0, 0, 0);
        assertEquals(c, DecodeTimer.medianStep(new StepSplit[] {a, b, c}));
        assertEquals(b, DecodeTimer.medianStep(new StepSplit[] {a, b}));
    }

    @Test
    void shouldComputeModelTimeAsTheRemainder() {
        StepSplit s = new StepSplit(100, 10, 5, 20, 1);
        assertEquals(64, s.model());
        assertEquals(1e7, s.tokensPerSecond(), 1e-6);
        assertThrows(IllegalArgumentException.class, () -> new StepSplit(1, -1, 0, 0, 0));
    }

    @Test
    void shouldRejectZeroMeasuredSteps() throws Exception {
        try (LlamaModel model = LlamaModel.load(modelFile, LoadOptions.defaults())) {
            FullCache cache = new FullCache(model.cacheShape());
            Session s = model.newSession(cache);
            assertThrows(IllegalArgumentException.class,
                    () -> DecodeTimer.run(s, new TimedKvCache(cache), dev.icecache.kvcache.metrics.CacheCounters.NONE, 0, 0));
        }
    }
}
