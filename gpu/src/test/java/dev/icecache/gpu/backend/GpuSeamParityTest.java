package dev.icecache.gpu.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;

import dev.icecache.gpu.GpuTestSupport;
import dev.icecache.kvcache.FullCache;
import dev.icecache.model.ComputeBackend;
import dev.icecache.model.ForwardPass;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Sampler;
import dev.icecache.model.Session;
import dev.icecache.model.backend.BackendChoice;
import dev.icecache.model.backend.ComputeBackends;

/** What the Flink decoder runs: a Session over the pass of the backend the service lookup picks. */
@Tag("gpu")
class GpuSeamParityTest {

    private static final float LOGIT_TOLERANCE = 1e-3f;

    @Test
    void shouldDecodeStories260kGreedyThroughTheSeamAsTheCpuDoes(TestReporter reporter) throws IOException {
        int device = GpuTestSupport.requireDevice();
        Path file = GpuTestSupport.requireModel("stories260K/stories260Ktok512.gguf");
        int[] reference = GpuTestSupport.readIds(GpuTestSupport.requireModel("stories260K/reference-greedy.ids"));
        BackendChoice choice = ComputeBackends.select(device);
        try (LlamaModel model = LlamaModel.load(file, new LoadOptions(null, 512));
             ComputeBackend backend = choice.backend();
             ForwardPass pass = backend.newForwardPass(model, Session.PREFILL_BATCH)) {
            assertInstanceOf(GpuBackend.class, backend, "lookup chose " + backend + " because " + choice.reason());
            float[][] cpu = greedy(model.newSession(new FullCache(model.cacheShape())), model, reference.length);
            float[][] gpu = greedy(model.newSession(new FullCache(model.cacheShape()), pass), model, reference.length);
            assertArrayEquals(reference, argmaxes(cpu), "CPU greedy ids differ from the reference");
            assertArrayEquals(reference, argmaxes(gpu), "GPU greedy ids through the seam differ from the reference");
            float diff = maxDiff(cpu, gpu);
            assertTrue(diff <= LOGIT_TOLERANCE, "max logit difference " + diff);

            // a batched prefill (the products run on PREFILL_BATCH positions at once)
            int[] prompt = new int[Session.PREFILL_BATCH + 9];
            prompt[0] = model.tokenizer().bos();
            System.arraycopy(reference, 0, prompt, 1, prompt.length - 1);
            float[] cpuPrefill = model.newSession(new FullCache(model.cacheShape()))
                    .prefill(prompt, 0, prompt.length, true).clone();
            float[] gpuPrefill = model.newSession(new FullCache(model.cacheShape()), pass)
                    .prefill(prompt, 0, prompt.length, true);
            float prefillDiff = maxDiff(new float[][] {cpuPrefill}, new float[][] {gpuPrefill});
            assertTrue(prefillDiff <= LOGIT_TOLERANCE, "prefill max logit difference " + prefillDiff);
            reporter.publishEntry("summary", String.format("seam: %s; greedy %d tokens = reference; max |logit diff|"
                    + " decode %.2e, prefill(%d) %.2e", backend.description(), reference.length, diff, prompt.length,
                    prefillDiff));
        }
    }

    private static float[][] greedy(Session s, LlamaModel model, int steps) {
        Sampler greedy = new Sampler(0f, 1f, 0);
        float[][] logits = new float[steps][];
        float[] l = s.step(model.tokenizer().bos());
        for (int i = 0; i < steps; i++) {
            logits[i] = l.clone();
            if (i + 1 < steps) {
                l = s.step(greedy.sample(l));
            }
        }
        return logits;
    }

    private static int[] argmaxes(float[][] logits) {
        Sampler greedy = new Sampler(0f, 1f, 0);
        int[] ids = new int[logits.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = greedy.sample(logits[i]);
        }
        return ids;
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
