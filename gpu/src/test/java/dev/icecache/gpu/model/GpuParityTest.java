package dev.icecache.gpu.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;

import dev.icecache.gpu.GpuTestSupport;
import dev.icecache.gpu.cuda.CudaContext;
import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.tree.Projection;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Sampler;
import dev.icecache.model.Session;

/** The GPU forward pass against the CPU backend (the oracle) on the real stories260K model. */
@Tag("gpu")
class GpuParityTest {

    private static final float LOGIT_TOLERANCE = 1e-3f;

    /** Greedy ids of both backends, the largest logit difference, and a digest of the attended positions. */
    record Run(int[] ids, float[][] logits, long attendedDigest) {
    }

    @Test
    void shouldDecodeStories260kGreedyIdenticallyToTheCpuWithLogitsWithinTolerance(TestReporter reporter)
            throws IOException {
        int device = GpuTestSupport.requireDevice();
        Path file = GpuTestSupport.requireModel("stories260K/stories260Ktok512.gguf");
        int[] reference = GpuTestSupport.readIds(GpuTestSupport.requireModel("stories260K/reference-greedy.ids"));
        try (LlamaModel model = LlamaModel.load(file, new LoadOptions(null, 512));
             CudaContext cuda = new CudaContext(device)) {
            Run cpu = cpuRun(model, new FullCache(model.cacheShape()), reference.length);
            Run gpu = gpuRun(model, cuda, new FullCache(model.cacheShape()), reference.length);
            assertArrayEquals(reference, cpu.ids(), "CPU greedy ids differ from the reference");
            assertArrayEquals(cpu.ids(), gpu.ids(), "GPU greedy ids differ from the CPU's");
            float maxDiff = maxDiff(cpu.logits(), gpu.logits());
            reporter.publishEntry("summary", String.format("stories260K greedy %d tokens identical to CPU; max |logit diff| = %.2e (limit %.0e)",
                    reference.length, maxDiff, LOGIT_TOLERANCE));
            assertTrue(maxDiff <= LOGIT_TOLERANCE, "max logit difference " + maxDiff);
        }
    }

    @Test
    void shouldAttendTheSameIceCachePagesAsTheCpu(TestReporter reporter) throws IOException {
        int device = GpuTestSupport.requireDevice();
        Path file = GpuTestSupport.requireModel("stories260K/stories260Ktok512.gguf");
        int steps = 400;  // well past sink + window + budget, so selection runs for most steps
        try (LlamaModel model = LlamaModel.load(file, new LoadOptions(null, 512));
             CudaContext cuda = new CudaContext(device)) {
            Run cpu = cpuRun(model, iceCache(model), steps);
            Run gpu = gpuRun(model, cuda, iceCache(model), steps);
            assertArrayEquals(cpu.ids(), gpu.ids(), "GPU greedy ids under IceCache differ from the CPU's");
            assertEquals(cpu.attendedDigest(), gpu.attendedDigest(), "attended positions differ");
            reporter.publishEntry("summary", "IceCache(128 tokens) over " + steps
                    + " greedy steps: attended positions identical on GPU and CPU, max |logit diff| = "
                    + String.format("%.2e", maxDiff(cpu.logits(), gpu.logits())));
        }
    }

    private static PagedKvCache iceCache(LlamaModel model) {
        CacheConfig config = CacheConfig.of(Policy.ICECACHE, CacheConfig.SMALL_BUDGET_TOKENS).withDenseLayers(1);
        int headDim = model.config().headDim();
        return new PagedKvCache(model.cacheShape(), config, new InMemoryPageStore(PageLayout.of(headDim), config.pageFormat()),
                new Projection(headDim, new SplittableRandom(7)));
    }

    static Run cpuRun(LlamaModel model, KvCache cache, int steps) {
        long[] digest = observe(cache);
        Session s = model.newSession(cache);
        Sampler greedy = new Sampler(0f, 1f, 0);
        int[] ids = new int[steps];
        float[][] logits = new float[steps][];
        float[] l = s.step(model.tokenizer().bos());
        for (int i = 0; i < steps; i++) {
            logits[i] = l.clone();
            ids[i] = greedy.sample(l);
            if (i + 1 < steps) {
                l = s.step(ids[i]);
            }
        }
        return new Run(ids, logits, digest[0]);
    }

    static Run gpuRun(LlamaModel model, CudaContext cuda, KvCache cache, int steps) {
        long[] digest = observe(cache);
        try (GpuWeights weights = GpuWeights.acquire(cuda, model.config(), model.weights());
             GpuTransformer gpu = new GpuTransformer(cuda, model.config(), model.weights(), weights, 1)) {
            Sampler greedy = new Sampler(0f, 1f, 0);
            int[] ids = new int[steps];
            float[][] logits = new float[steps][];
            int[] token = {model.tokenizer().bos()};
            for (int i = 0; i < steps; i++) {
                float[] l = gpu.forward(cache, token, 0, 1, i, true);
                logits[i] = l.clone();
                ids[i] = greedy.sample(l);
                token[0] = ids[i];
            }
            return new Run(ids, logits, digest[0]);
        }
    }

    /** Hashes every attended (layer, kvHead, position, positions) into digest[0] when the cache is paged. */
    private static long[] observe(KvCache cache) {
        long[] digest = {17};
        if (cache instanceof PagedKvCache paged) {
            paged.observeAttendedPositions((layer, kvHead, position, positions, count) -> {
                long h = digest[0] * 31 + layer * 1_000_003L + kvHead * 7919L + position;
                for (int i = 0; i < count; i++) {
                    h = h * 31 + positions[i];
                }
                digest[0] = h;
            });
        }
        return digest;
    }

    private static float maxDiff(float[][] a, float[][] b) {
        float max = 0f;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
            }
        }
        return max;
    }
}
