package dev.icecache.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.tree.Projection;
import dev.icecache.model.synthetic.RandomModels;
import dev.icecache.model.synthetic.WeightTypes;
import dev.icecache.model.tensor.GgmlType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * qwen2 (q/k/v biases, NeoX RoPE) and qwen3 (per-head q/k RMSNorm, NeoX RoPE) against the
 * double-precision {@link ScalarLlama}, which reads the raw GGUF tensors itself.
 */
class QwenArchitectureTest {

    private static final RandomModels.Shape SHAPE = new RandomModels.Shape(64, 96, 2, 4, 2, 400, 64);
    private static final RandomModels.Shape LONG_SHAPE = new RandomModels.Shape(64, 96, 2, 4, 2, 400, 128);

    private static final Sampler GREEDY = new Sampler(0f, 1f, 0);

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"qwen2", "qwen3"})
    void shouldMatchScalarReference(String arch) throws IOException {
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.Q8_0}) {
            Path file = dir.resolve(arch + "-" + type + ".gguf");
            boolean tied = type == GgmlType.F32;
            RandomModels.write(file, arch, SHAPE, WeightTypes.uniform(type), type.name(), 3, tied);
            int[] tokens = new SplittableRandom(3).ints(12, 0, SHAPE.vocabSize()).toArray();
            ScalarLlama reference = new ScalarLlama(file, tokens.length);
            try (LlamaModel model = LlamaModel.load(file, LoadOptions.defaults())) {
                assertEquals(arch, model.config().architecture());
                assertTrue(model.config().neoxRope(), arch + " rotates NeoX pairs");
                Session session = model.newSession(new FullCache(model.cacheShape()));
                for (int i = 0; i < tokens.length; i++) {
                    RandomModelReferenceTest.assertClose(reference.step(tokens[i]), session.step(tokens[i]), 1e-4,
                            arch + " " + type + " position " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen2", "qwen3"})
    void shouldRunTheIceCachePolicyUnchangedOnAQwenModel(String arch) throws IOException {
        // a budget above the sequence length evicts nothing: the sparse cache must then equal the full cache
        Path file = dir.resolve(arch + "-policy.gguf");
        RandomModels.write(file, arch, LONG_SHAPE, WeightTypes.uniform(GgmlType.F32), "F32", 9, false);
        int[] tokens = new SplittableRandom(9).ints(40, 0, SHAPE.vocabSize()).toArray();
        try (LlamaModel model = LlamaModel.load(file, LoadOptions.defaults())) {
            Session full = model.newSession(new FullCache(model.cacheShape()));
            PagedKvCache paged = new PagedKvCache(model.cacheShape(),
                    CacheConfig.of(Policy.ICECACHE, 64).withPageFormat(PageFormat.F32),
                    new InMemoryPageStore(PageLayout.of(model.config().headDim()), PageFormat.F32),
                    new Projection(model.config().headDim(), new SplittableRandom(1)));
            Session sparse = model.newSession(paged);
            float[] want = full.prefill(tokens, 0, tokens.length, true).clone();
            float[] got = sparse.prefill(tokens, 0, tokens.length, true);
            double[] wantD = new double[want.length];
            for (int i = 0; i < want.length; i++) {
                wantD[i] = want[i];
            }
            RandomModelReferenceTest.assertClose(wantD, got, 1e-4, arch + " IceCache policy within budget vs full cache");
            // 40 greedy steps: equal to the full cache while everything fits the 64-token budget,
            // then the policy evicts and the logits must stay finite
            for (int step = 0; step < 40; step++) {
                int next = GREEDY.sample(got);
                float[] fullLogits = full.step(next);
                got = sparse.step(next);
                if (sparse.position() <= 64) {
                    assertEquals(GREEDY.sample(fullLogits), GREEDY.sample(got), arch + " greedy token at step " + step);
                }
                for (float logit : got) {
                    assertTrue(Float.isFinite(logit), arch + " step " + step + " gave a non-finite logit");
                }
            }
        }
    }


    @Test
    void shouldRefuseAQwen2ModelWithoutBiasesNamingTheTensor() throws IOException {
        Path full = dir.resolve("qwen2.gguf");
        RandomModels.write(full, "qwen2", SHAPE, WeightTypes.uniform(GgmlType.F32), "F32", 3, true);
        // the same metadata, declared as qwen2 but written by the llama writer: no attn_q.bias
        Path llamaTensors = dir.resolve("qwen2-without-bias.gguf");
        RandomModels.write(llamaTensors, "llama", SHAPE, WeightTypes.uniform(GgmlType.F32), "F32", 3, true);
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> LlamaModel.load(relabel(llamaTensors, "qwen2"), LoadOptions.defaults()));
        assertTrue(e.getMessage().contains("GGUF tensor 'blk.0.attn_q.bias' is missing"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void shouldRefuseAnUnknownArchitectureInOneLine() throws IOException {
        Path file = dir.resolve("phi3.gguf");
        RandomModels.write(file, SHAPE, GgmlType.F32, 3, true);
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> LlamaModel.load(relabel(file, "phi3"), LoadOptions.defaults()));
        assertTrue(e.getMessage().endsWith("GGUF general.architecture='phi3' is not supported; this engine runs llama, "
                + "qwen2, qwen3 models"), e.getMessage());
    }

    /** A copy of a llama file with general.architecture and the key prefix changed to {@code arch}. */
    private Path relabel(Path llama, String arch) throws IOException {
        Path out = dir.resolve(arch + "-relabelled-" + llama.getFileName());
        GgufCopy.copy(llama, out, arch, name -> 1);
        return out;
    }
}
