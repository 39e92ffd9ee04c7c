package dev.icecache.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.icecache.kvcache.FullCache;
import dev.icecache.model.backend.BackendChoice;
import dev.icecache.model.backend.ComputeBackends;
import dev.icecache.model.synthetic.RandomModels;
import dev.icecache.model.tensor.GgmlType;

/** Sessions over an explicit {@link ForwardPass}: same numbers as the default, sharing, misuse. */
class ForwardPassSeamTest {

    private static final RandomModels.Shape SHAPE = new RandomModels.Shape(32, 64, 2, 4, 2, 360, 128);
    private static final long SEED = 41L;

    @TempDir
    static Path dir;
    private static LlamaModel model;
    private static LlamaModel other;

    @BeforeAll
    static void load() throws IOException {
        Path file = dir.resolve("m.gguf");
        RandomModels.write(file, SHAPE, GgmlType.Q8_0, 5, false);
        model = LlamaModel.load(file, LoadOptions.defaults());
        Path second = dir.resolve("o.gguf");
        RandomModels.write(second, SHAPE, GgmlType.F32, 6, false);
        other = LlamaModel.load(second, LoadOptions.defaults());
    }

    @AfterAll
    static void close() {
        model.close();
        other.close();
    }

    @Test
    void shouldGiveBitIdenticalLogitsThroughAnExplicitCpuPassAndTheDefaultSession() {
        int[] prompt = randomTokens(new SplittableRandom(SEED), 45); // more than one prefill batch
        Session plain = model.newSession(new FullCache(model.cacheShape()));
        try (ForwardPass pass = ComputeBackend.cpu().newForwardPass(model, Session.PREFILL_BATCH)) {
            Session seam = model.newSession(new FullCache(model.cacheShape()), pass);
            assertBitEqual(plain.prefill(prompt, 0, prompt.length, true), seam.prefill(prompt, 0, prompt.length, true),
                    "prefill");
            for (int token = 3; token < 13; token++) {
                assertBitEqual(plain.step(token), seam.step(token), "step " + token);
            }
            assertEquals(plain.position(), seam.position());
        }
    }

    @Test
    void shouldComputeEachSessionAsAloneWhenInterleavedSessionsShareOnePass() {
        SplittableRandom random = new SplittableRandom(SEED + 1);
        int[] a = randomTokens(random, 37);
        int[] b = randomTokens(random, 11);
        float[][] aloneA = run(model.newSession(new FullCache(model.cacheShape())), a, 8);
        float[][] aloneB = run(model.newSession(new FullCache(model.cacheShape())), b, 8);
        try (ForwardPass shared = ComputeBackend.cpu().newForwardPass(model, Session.PREFILL_BATCH)) {
            Session sa = model.newSession(new FullCache(model.cacheShape()), shared);
            Session sb = model.newSession(new FullCache(model.cacheShape()), shared);
            float[] la = sa.prefill(a, 0, a.length, true).clone();
            float[] lb = sb.prefill(b, 0, b.length, true).clone();
            assertBitEqual(aloneA[0], la, "a prefill, seed=" + SEED);
            assertBitEqual(aloneB[0], lb, "b prefill, seed=" + SEED);
            for (int i = 1; i <= 8; i++) {
                assertBitEqual(aloneA[i], sa.step(argmax(la)), "a step " + i + ", seed=" + SEED);
                la = aloneA[i];
                assertBitEqual(aloneB[i], sb.step(argmax(lb)), "b step " + i + ", seed=" + SEED);
                lb = aloneB[i];
            }
        }
    }

    @Test
    void shouldReproduceStories260kReferenceThroughTheBackendTheServiceLookupPicks() throws IOException {
        Path file = TestModels.require("stories260K/stories260Ktok512.gguf");
        int[] expected = TestModels.readIds(TestModels.require("stories260K/reference-greedy.ids"));
        BackendChoice choice = ComputeBackends.select(0); // only declining test providers here
        assertSame(ComputeBackend.cpu(), choice.backend(), choice.reason());
        try (LlamaModel m = LlamaModel.load(file, new LoadOptions(null, 512));
             ForwardPass pass = choice.backend().newForwardPass(m, Session.PREFILL_BATCH)) {
            Session s = m.newSession(new FullCache(m.cacheShape()), pass);
            Sampler greedy = new Sampler(0f, 1f, 0);
            int[] ids = new int[expected.length];
            float[] logits = s.step(m.tokenizer().bos());
            for (int i = 0; i < ids.length; i++) {
                ids[i] = greedy.sample(logits);
                if (i + 1 < ids.length) {
                    logits = s.step(ids[i]);
                }
            }
            assertArrayEquals(expected, ids);
        }
    }

    @Test
    void shouldRejectAPassOfAnotherModel() {
        try (ForwardPass pass = ComputeBackend.cpu().newForwardPass(other, Session.PREFILL_BATCH)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.newSession(new FullCache(model.cacheShape()), pass));
            assertTrue(e.getMessage().contains("newForwardPass(model"), e.getMessage());
        }
    }

    @Test
    void shouldRejectAPassSmallerThanThePrefillBatch() {
        try (ForwardPass pass = ComputeBackend.cpu().newForwardPass(model, Session.PREFILL_BATCH - 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.newSession(new FullCache(model.cacheShape()), pass));
            assertTrue(e.getMessage().contains("maxBatch=" + (Session.PREFILL_BATCH - 1)), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ComputeBackend.cpu().newForwardPass(model, 0));
    }

    @Test
    void shouldRejectABatchLargerThanThePassAndReturnNoLogitsWhenNoneAreWanted() {
        try (ForwardPass pass = ComputeBackend.cpu().newForwardPass(model, 2)) {
            assertEquals(2, pass.maxBatch());
            assertSame(model, pass.model());
            int[] tokens = {1, 2, 3};
            assertThrows(IllegalArgumentException.class,
                    () -> pass.forward(new FullCache(model.cacheShape()), tokens, 0, 3, 0, true));
            assertNull(pass.forward(new FullCache(model.cacheShape()), tokens, 0, 2, 0, false));
        }
    }

    @Test
    void shouldNameTheCpuBackend() {
        assertTrue(ComputeBackend.cpu().description().startsWith("CPU"), ComputeBackend.cpu().description());
    }

    private static float[][] run(Session s, int[] prompt, int steps) {
        float[][] out = new float[steps + 1][];
        out[0] = s.prefill(prompt, 0, prompt.length, true).clone();
        for (int i = 1; i <= steps; i++) {
            out[i] = s.step(argmax(out[i - 1])).clone();
        }
        return out;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    private static int[] randomTokens(SplittableRandom random, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = random.nextInt(SHAPE.vocabSize());
        }
        return t;
    }

    private static void assertBitEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                throw new AssertionError(what + ": logit " + i + " differs: " + expected[i] + " vs " + actual[i]);
            }
        }
    }
}
