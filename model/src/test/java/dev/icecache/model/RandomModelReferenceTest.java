package dev.icecache.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.icecache.kvcache.FullCache;
import dev.icecache.model.compute.MatMul;
import dev.icecache.model.synthetic.RandomModels;
import dev.icecache.model.tensor.GgmlType;

/** The engine against the double-precision {@link ScalarLlama} on random models of every tensor type. */
class RandomModelReferenceTest {

    private static final RandomModels.Shape SHAPE = new RandomModels.Shape(64, 96, 2, 4, 2, 400, 64);
    /** Rows of 256 so that every matrix of a K-quant model is in that K-quant (no fallback). */
    private static final RandomModels.Shape K_SHAPE = new RandomModels.Shape(256, 256, 2, 4, 2, 400, 64);

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void shouldMatchScalarReferenceWithinRelativeTolerance(GgmlType type) throws IOException {
        long seed = 42 + type.ordinal();
        boolean tied = type.ordinal() % 2 == 0;
        Path file = dir.resolve("random-" + type + ".gguf");
        RandomModels.Shape shape = type.blockSize() == 256 ? K_SHAPE : SHAPE;
        RandomModels.write(file, shape, type, seed, tied);
        int[] tokens = new SplittableRandom(seed).ints(12, 0, shape.vocabSize()).toArray();
        ScalarLlama reference = new ScalarLlama(file, tokens.length);
        try (LlamaModel model = LlamaModel.load(file, LoadOptions.defaults())) {
            assertEquals(type.name(), model.config().weightType());
            assertEquals(tied, model.weights().classifier() == model.weights().tokenEmbedding());
            Session stepped = model.newSession(new FullCache(model.cacheShape()));
            for (int i = 0; i < tokens.length; i++) {
                double[] want = reference.step(tokens[i]);
                float[] got = stepped.step(tokens[i]);
                assertClose(want, got, 1e-4, type + " seed=" + seed + " position=" + i);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "Q8_0", "Q4_0"})
    void shouldGiveSameLogitsFromBatchedPrefillAsFromStepping(GgmlType type) throws IOException {
        long seed = 7;
        Path file = dir.resolve("prefill-" + type + ".gguf");
        // a context long enough for one whole prefill batch and part of the next
        RandomModels.Shape shape = new RandomModels.Shape(SHAPE.dim(), SHAPE.hiddenDim(), SHAPE.nLayers(), SHAPE.nHeads(),
                SHAPE.nKvHeads(), SHAPE.vocabSize(), Session.PREFILL_BATCH + 16);
        RandomModels.write(file, shape, type, seed, false);
        int[] tokens = new SplittableRandom(seed).ints(Session.PREFILL_BATCH + 9, 0, SHAPE.vocabSize()).toArray();
        try (LlamaModel model = LlamaModel.load(file, LoadOptions.defaults())) {
            Session stepped = model.newSession(new FullCache(model.cacheShape()));
            float[] last = null;
            for (int token : tokens) {
                last = stepped.step(token);
            }
            float[] want = last.clone();
            Session batched = model.newSession(new FullCache(model.cacheShape()));
            float[] got = batched.prefill(tokens, 0, tokens.length, true);
            assertEquals(tokens.length, batched.position());
            double[] wantD = new double[want.length];
            for (int i = 0; i < want.length; i++) {
                wantD[i] = want[i];
            }
            // Q8_0 decode steps multiply int8 activations (llama.cpp's route), a batch multiplies in
            // float: they differ by the activations' quantization error (MatMul's comment)
            boolean int8Steps = type == GgmlType.Q8_0 && MatMul.int8ActivationsByDefault();
            assertClose(wantD, got, int8Steps ? 2e-2 : 1e-5, type + " seed=" + seed);
            if (type == GgmlType.F32) {
                assertArrayEquals(want, got, 0f, "F32 prefill uses the same kernels as stepping");
            }
        }
    }

    /** max |got - want| <= tol * max |want| (relative to the logits' scale). */
    static void assertClose(double[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what);
        double scale = 0;
        double worst = 0;
        int at = -1;
        for (int i = 0; i < want.length; i++) {
            scale = Math.max(scale, Math.abs(want[i]));
            double err = Math.abs(got[i] - want[i]);
            if (err > worst) {
                worst = err;
                at = i;
            }
        }
        assertTrue(scale > 0, what + ": reference logits are all zero");
        assertTrue(worst <= tol * scale, what + ": logit " + at + " differs by " + worst + " (> " + tol + " x scale "
                + scale + "): got " + (at >= 0 ? got[at] : 0) + " want " + (at >= 0 ? want[at] : 0));
    }
}
