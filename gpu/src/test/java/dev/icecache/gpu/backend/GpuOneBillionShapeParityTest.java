package dev.icecache.gpu.backend;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.io.TempDir;

import dev.icecache.gpu.GpuTestSupport;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.kvcache.tree.Projection;
import dev.icecache.model.ComputeBackend;
import dev.icecache.model.ForwardPass;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Sampler;
import dev.icecache.model.Session;
import dev.icecache.model.backend.ComputeBackends;
import dev.icecache.model.synthetic.RandomModels;
import dev.icecache.model.tensor.GgmlType;

/**
 * Parity on the Llama-3.2-1B shape (random Q8_0 weights): a 96-token prompt, then 64 steps
 * teacher-forced with the CPU's greedy tokens, IceCache(64) with the decoder's settings on both
 * sides (the budget binds from the first step), the GPU attending device-resident. The stated
 * tolerance: every step's largest logit difference within 1e-3 of the largest |logit|.
 */
@Tag("gpu")
class GpuOneBillionShapeParityTest {

    private static final double RELATIVE_TOLERANCE = 1e-3;
    private static final int PROMPT = 96;
    private static final int STEPS = 64;

    private static PagedKvCache cache(LlamaModel model) {
        CacheConfig config = CacheConfig.of(Policy.ICECACHE, 64).withTreeParams(DciParams.bestKeyDefaults());
        return new PagedKvCache(model.cacheShape(), config, new InMemoryPageStore(
                PageLayout.of(model.config().headDim()), config.pageFormat()),
                new Projection(model.config().headDim(), new SplittableRandom(7)));
    }

    @Test
    void shouldMatchTheCpuOnTheOneBillionShapeOver64Steps(@TempDir Path dir, TestReporter reporter) throws IOException {
        int device = GpuTestSupport.requireDevice();
        Path file = dir.resolve("random-1b-q8_0.gguf");
        RandomModels.write(file, RandomModels.Shape.LLAMA_3_2_1B, GgmlType.Q8_0, 42, false);
        try (LlamaModel model = LlamaModel.load(file, LoadOptions.defaults());
             ComputeBackend backend = ComputeBackends.select(device).backend();
             ForwardPass pass = backend.newForwardPass(model, Session.PREFILL_BATCH)) {
            GpuForwardPass gpu = assertInstanceOf(GpuForwardPass.class, pass);
            int[] prompt = new int[PROMPT];
            SplittableRandom rnd = new SplittableRandom(1);
            for (int i = 0; i < PROMPT; i++) {
                prompt[i] = 3 + rnd.nextInt(model.config().vocabSize() - 3);
            }
            PagedKvCache gpuCache = cache(model);
            Session cpu = model.newSession(cache(model));
            Session dev = model.newSession(gpuCache, pass);
            float[] c = cpu.prefill(prompt, 0, PROMPT, true).clone();
            float[] g = dev.prefill(prompt, 0, PROMPT, true);
            assertTrue(gpu.transformer().isDeviceResident(gpuCache), "the cache attended on the host");
            Sampler greedy = new Sampler(0f, 1f, 0);
            int agree = 0;
            double worst = 0;
            for (int s = 0; s < STEPS; s++) {
                double scale = 0;
                double diff = 0;
                for (int j = 0; j < c.length; j++) {
                    scale = Math.max(scale, Math.abs(c[j]));
                    diff = Math.max(diff, Math.abs(c[j] - g[j]));
                }
                worst = Math.max(worst, diff / scale);
                assertTrue(diff <= RELATIVE_TOLERANCE * scale, "step " + s + ": max |logit diff| " + diff
                        + " over max |logit| " + scale);
                int token = greedy.sample(c);
                agree += token == greedy.sample(g) ? 1 : 0;
                c = cpu.step(token).clone();
                g = dev.step(token);
            }
            reporter.publishEntry("summary", String.format("1B shape random Q8_0, IceCache(64) resident BF16: %d/%d "
                    + "greedy tokens agree (teacher-forced), max |logit diff| / max |logit| %.2e (limit %.0e); "
                    + "per decode step %d B host->device, %d B device->host", agree, STEPS, worst, RELATIVE_TOLERANCE,
                    gpu.transformer().lastHostToDeviceBytes(), gpu.transformer().lastDeviceToHostBytes()));
            gpuCache.close();
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
