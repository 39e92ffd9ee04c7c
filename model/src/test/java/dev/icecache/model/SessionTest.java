package dev.icecache.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.FullCache;
import dev.icecache.model.synthetic.RandomModels;
import dev.icecache.model.tensor.GgmlType;

/** Positions, resumption from a filled cache, and rejection of bad calls. */
class SessionTest {

    private static final RandomModels.Shape SHAPE = new RandomModels.Shape(32, 64, 2, 4, 2, 360, 8);

    @TempDir
    static Path dir;
    private static LlamaModel model;

    @BeforeAll
    static void load() throws IOException {
        Path file = dir.resolve("m.gguf");
        RandomModels.write(file, SHAPE, GgmlType.F32, 3, true);
        model = LlamaModel.load(file, LoadOptions.defaults());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void shouldContinueFromTheCacheLengthOfAnEarlierSession() {
        int[] tokens = {5, 77, 300, 12, 9};
        FullCache cache = new FullCache(model.cacheShape());
        Session first = model.newSession(cache);
        assertNull(first.prefill(tokens, 0, 3, false));
        assertEquals(3, first.position());
        Session resumed = model.newSession(cache);
        assertEquals(3, resumed.position());
        float[] got = resumed.prefill(tokens, 3, 2, true).clone();
        Session whole = model.newSession(new FullCache(model.cacheShape()));
        assertArrayEquals(whole.prefill(tokens, 0, 5, true), got, 0f);
    }

    @Test
    void shouldRejectTokenOutsideTheVocabulary() {
        Session s = model.newSession(new FullCache(model.cacheShape()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.step(360));
        assertTrue(e.getMessage().contains("token id=360"), e.getMessage());
        assertEquals(0, s.position());
    }

    @Test
    void shouldRejectRunningPastTheContextLength() {
        Session s = model.newSession(new FullCache(model.cacheShape()));
        s.prefill(new int[8], 0, 8, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.step(1));
        assertTrue(e.getMessage().contains("exceeds the context length=8"), e.getMessage());
    }

    @Test
    void shouldRejectACacheOfAnotherShape() {
        CacheShape other = new CacheShape(2, 4, 4, 8, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.newSession(new FullCache(other)));
        assertTrue(e.getMessage().contains("does not fit the model"), e.getMessage());
    }

    /** Every position's logits of one prefill equal the last logits of a prefill that stops there (same bits). */
    @Test
    void shouldGiveEveryPositionTheLogitsOfAPrefillEndingThere() {
        int[] tokens = {5, 77, 300, 12, 9, 41, 250};
        int vocab = model.config().vocabSize();
        float[][] every = new float[tokens.length][vocab];
        Session s = model.newSession(new FullCache(model.cacheShape()));
        s.prefillEveryLogits(tokens, 0, tokens.length, every);
        assertEquals(tokens.length, s.position());
        for (int t = 0; t < tokens.length; t++) {
            Session upTo = model.newSession(new FullCache(model.cacheShape()));
            assertArrayEquals(upTo.prefill(tokens, 0, t + 1, true), every[t], 0f, "position " + t);
        }
        assertThrows(IllegalArgumentException.class,
                () -> model.newSession(new FullCache(model.cacheShape())).prefillEveryLogits(tokens, 0, 7, new float[6][]));
    }

    /** The same across forward passes: a prefill longer than one batch keeps every position's logits in order. */
    @Test
    void shouldGiveEveryPositionItsLogitsAcrossPrefillBatches() throws IOException {
        RandomModels.Shape longer = new RandomModels.Shape(SHAPE.dim(), SHAPE.hiddenDim(), SHAPE.nLayers(), SHAPE.nHeads(),
                SHAPE.nKvHeads(), SHAPE.vocabSize(), Session.PREFILL_BATCH + 16);
        Path file = dir.resolve("longer.gguf");
        RandomModels.write(file, longer, GgmlType.F32, 5, true);
        try (LlamaModel m = LlamaModel.load(file, LoadOptions.defaults())) {
            int[] tokens = new SplittableRandom(5).ints(Session.PREFILL_BATCH + 10, 0, SHAPE.vocabSize()).toArray();
            float[][] every = new float[tokens.length][m.config().vocabSize()];
            m.newSession(new FullCache(m.cacheShape())).prefillEveryLogits(tokens, 0, tokens.length, every);
            for (int t : new int[] {0, Session.PREFILL_BATCH - 1, Session.PREFILL_BATCH, tokens.length - 1}) {
                Session upTo = m.newSession(new FullCache(m.cacheShape()));
                assertArrayEquals(upTo.prefill(tokens, 0, t + 1, true), every[t], 0f, "position " + t);
            }
        }
    }
}
