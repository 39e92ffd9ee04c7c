package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import dev.icecache.gpu.GpuProbe;
import dev.icecache.gpu.GpuStatus;
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
import dev.icecache.model.Session;
import dev.icecache.model.backend.ComputeBackends;
import dev.icecache.operators.TestModels;
import dev.icecache.operators.state.DocumentCache;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;

/**
 * The decoder's own document path on the GPU (issue 14, run by {@code gpu/check.sh}): a
 * {@link DocumentSession} over the GPU backend's pass with the pool on the device (IceCache with the
 * decoder's settings: BF16 pages, best-key search, the decoder's projection seed), prefill of a
 * document in chunks then decode, against the same session on the CPU. Skips without a GPU. Uses
 * no Flink class, so the GPU bundle carries it without Flink's jars.
 */
@Tag("gpu")
class GpuDocumentSessionTest {

    private static final int TOKENS = 120;
    private static final int MUST_AGREE = 32;

    private static PagedKvCache cache(LlamaModel model, int budget) {
        CacheConfig config = CacheConfig.of(Policy.ICECACHE, budget).withTreeParams(DciParams.bestKeyDefaults())
                .withPageFormat(PageFormat.BF16);
        int hd = model.config().headDim();
        return new PagedKvCache(model.cacheShape(), config, new InMemoryPageStore(PageLayout.of(hd), PageFormat.BF16),
                new Projection(hd, new SplittableRandom(DocumentCache.PROJECTION_SEED)));
    }

    private static int[] run(DocumentSession doc, int[] prompt) {
        for (int pos = 0; pos < prompt.length; pos += 50) {
            int end = Math.min(prompt.length, pos + 50);
            doc.prefill(Arrays.copyOfRange(prompt, pos, end), end == prompt.length);
        }
        int[] out = new int[0];
        int[] buf = new int[16];
        while (!doc.finished()) {
            int n = doc.decode(16, buf);
            int[] joined = Arrays.copyOf(out, out.length + n);
            System.arraycopy(buf, 0, joined, out.length, n);
            out = joined;
        }
        return out;
    }

    @Test
    void shouldDecodeADocumentOnTheGpuAsOnTheCpu(TestReporter reporter) throws Exception {
        int index = Integer.getInteger("icecache.gpu.device", 0);
        GpuStatus status = GpuProbe.probe(index);
        assumeTrue(status.available(), "no GPU: " + status.reason());
        Path file = TestModels.require(TestModels.STORIES_GGUF);
        try (LlamaModel model = LlamaModel.load(file, new LoadOptions(null, TestModels.STORIES_CONTEXT));
             ComputeBackend backend = ComputeBackends.select(index).backend();
             ForwardPass pass = backend.newForwardPass(model, Session.PREFILL_BATCH)) {
            assertTrue(!backend.description().startsWith("CPU"), "lookup chose " + backend.description());
            int[] prompt = new int[300];
            SplittableRandom rnd = new SplittableRandom(3);
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = 3 + rnd.nextInt(model.config().vocabSize() - 3);
            }
            GenerationSettings g = new GenerationSettings(TOKENS, 0f, 1f, 1, 16);
            int[] cpu = run(DocumentSession.start(model, cache(model, 64), g, "doc"), prompt);
            PagedKvCache gpuCache = cache(model, 64);
            int[] gpu = run(DocumentSession.start(model, pass, gpuCache, g, "doc"), prompt);
            int agree = 0;
            while (agree < Math.min(cpu.length, gpu.length) && cpu[agree] == gpu[agree]) {
                agree++;
            }
            reporter.publishEntry("summary", String.format("DocumentSession on %s, IceCache(64) device-resident BF16, "
                    + "300-token prompt in chunks of 50: %d/%d tokens equal to the CPU run", backend.description(),
                    agree, cpu.length));
            assertArrayEquals(Arrays.copyOf(cpu, MUST_AGREE), Arrays.copyOf(gpu, MUST_AGREE),
                    "the first " + MUST_AGREE + " tokens differ from the CPU run's");
            gpuCache.close();
        }
    }
}
