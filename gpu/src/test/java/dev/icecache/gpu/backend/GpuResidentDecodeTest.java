package dev.icecache.gpu.backend;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;

import dev.icecache.gpu.GpuTestSupport;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
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

/**
 * The decoder's path with the pool on the device (issue 14): a {@link Session} over the pass of the
 * backend {@link ComputeBackends#select} picks, on a {@link PagedKvCache} with the decoder's IceCache
 * settings (BF16 pages, {@link DciParams#bestKeyDefaults()}), prefill of a prompt then greedy decode,
 * against the CPU run of the same cache. Output equal to the CPU's while the CPU's top-2 logit margin
 * exceeds the tolerance; where a near tie flips a token, the agreement is reported, not failed.
 */
@Tag("gpu")
class GpuResidentDecodeTest {

    private static final float LOGIT_TOLERANCE = 2e-3f;
    private static final int STEPS = 200;

    private static PagedKvCache cache(LlamaModel model, Policy policy, PageFormat format) {
        CacheConfig config = CacheConfig.of(policy, 64).withTreeParams(DciParams.bestKeyDefaults()).withPageFormat(format);
        return new PagedKvCache(model.cacheShape(), config, new InMemoryPageStore(PageLayout.of(model.config().headDim()),
                format), new Projection(model.config().headDim(), new SplittableRandom(7)));
    }

    /** Greedy run: logits of the prompt's last position, then of each generated token. */
    private static float[][] run(Session s, int[] prompt) {
        Sampler greedy = new Sampler(0f, 1f, 0);
        float[][] logits = new float[STEPS][];
        float[] l = s.prefill(prompt, 0, prompt.length, true);
        for (int i = 0; i < STEPS; i++) {
            logits[i] = l.clone();
            if (i + 1 < STEPS) {
                l = s.step(greedy.sample(l));
            }
        }
        return logits;
    }

    @Test
    void shouldDecodeWithThePoolOnTheDeviceAsTheCpuDoes(TestReporter reporter) throws IOException {
        int device = GpuTestSupport.requireDevice();
        for (PageFormat format : PageFormat.values()) {
            decode(device, format, reporter);
        }
    }

    private static void decode(int device, PageFormat format, TestReporter reporter) throws IOException {
        Path file = GpuTestSupport.requireModel("stories260K/stories260Ktok512.gguf");
        int[] reference = GpuTestSupport.readIds(GpuTestSupport.requireModel("stories260K/reference-greedy.ids"));
        try (LlamaModel model = LlamaModel.load(file, new LoadOptions(null, 512));
             ComputeBackend backend = ComputeBackends.select(device).backend();
             ForwardPass pass = backend.newForwardPass(model, Session.PREFILL_BATCH)) {
            GpuForwardPass gpu = assertInstanceOf(GpuForwardPass.class, pass);
            int[] prompt = new int[41];
            prompt[0] = model.tokenizer().bos();
            System.arraycopy(reference, 0, prompt, 1, prompt.length - 1);
            PagedKvCache cpuCache = cache(model, Policy.ICECACHE, format);
            PagedKvCache gpuCache = cache(model, Policy.ICECACHE, format);
            float[][] cpu = run(model.newSession(cpuCache), prompt);
            float[][] dev = run(model.newSession(gpuCache, pass), prompt);
            assertTrue(gpu.transformer().isDeviceResident(gpuCache), "the cache attended on the host");
            long h2d = gpu.transformer().lastHostToDeviceBytes();
            long d2h = gpu.transformer().lastDeviceToHostBytes();
            Sampler greedy = new Sampler(0f, 1f, 0);
            int agree = 0;
            float worst = 0f;
            while (agree < STEPS && greedy.sample(cpu[agree]) == greedy.sample(dev[agree])) {
                for (int j = 0; j < cpu[agree].length; j++) {
                    worst = Math.max(worst, Math.abs(cpu[agree][j] - dev[agree][j]));
                }
                agree++;
            }
            assertTrue(worst <= LOGIT_TOLERANCE, "max logit difference " + worst + " over " + agree + " agreeing steps");
            if (agree < STEPS) {
                float margin = topTwoMargin(cpu[agree]);
                assertTrue(margin <= 2 * LOGIT_TOLERANCE, "token " + agree + " differs with a CPU top-2 margin of "
                        + margin + " (not a near tie)");
            }
            reporter.publishEntry("summary", String.format("resident %s pool, IceCache(64): %d/%d greedy tokens equal to"
                    + " the CPU, max |logit diff| %.2e; last step copied %d B host->device, %d B device->host; device"
                    + " pages %d KiB", format, agree, STEPS, worst, h2d, d2h,
                    gpu.transformer().residentDeviceBytes() >> 10));
            gpuCache.close();
            assertTrue(!gpu.transformer().isDeviceResident(gpuCache), "closing the cache kept its device pages");
        }
    }

    private static float topTwoMargin(float[] l) {
        float a = Float.NEGATIVE_INFINITY;
        float b = Float.NEGATIVE_INFINITY;
        for (float x : l) {
            if (x > a) {
                b = a;
                a = x;
            } else if (x > b) {
                b = x;
            }
        }
        return a - b;
    }
}
