package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.KvCache;
import dev.icecache.model.ComputeBackend;
import dev.icecache.model.ForwardPass;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Session;
import dev.icecache.model.backend.BackendChoice;
import dev.icecache.operators.TestModels;

/**
 * A device fault in the middle of decoding: the guarded pass tells the backend (so that the
 * restarted task chooses the CPU), and fails with one message naming the device, the position and
 * the error; the CPU, resumed from the last good state, continues with the uninterrupted run's tokens.
 */
class GuardedPassTest {

    private static LlamaModel model;

    @BeforeAll
    static void load() throws Exception {
        model = LlamaModel.load(TestModels.require(TestModels.STORIES_GGUF),
                new LoadOptions(null, TestModels.STORIES_CONTEXT));
    }

    /** An "accelerator" that computes on the CPU and fails from its {@code failAt}-th call on. */
    private static final class FlakyDevice implements ComputeBackend {
        final int failAt;
        final List<RuntimeException> failures = new ArrayList<>();
        int calls;

        FlakyDevice(int failAt) {
            this.failAt = failAt;
        }

        @Override
        public String description() {
            return "flaky device 7";
        }

        @Override
        public ForwardPass newForwardPass(LlamaModel m, int maxBatch) {
            return new DelegatingPass(ComputeBackend.cpu().newForwardPass(m, maxBatch)) {
                @Override
                public float[] forward(KvCache cache, int[] tokens, int off, int n, int position, boolean wantLogits) {
                    if (++calls >= failAt) {
                        throw new RuntimeException("CUDA call failed: cuLaunchKernel paged_attention: "
                                + "CUDA_ERROR_ILLEGAL_ADDRESS (700)");
                    }
                    return super.forward(cache, tokens, off, n, position, wantLogits);
                }
            };
        }

        @Override
        public void markFailed(RuntimeException cause) {
            failures.add(cause);
        }

        @Override
        public void close() {
        }
    }

    @Test
    void shouldTellTheBackendAndFailTheTaskOnADeviceFaultThenTheCpuContinuesWithTheSameTokens() {
        int[] prompt = new SplittableRandom(5).ints(40, 3, 500).toArray();
        int steps = 12;
        int[] reference = greedy(ComputeBackend.cpu().newForwardPass(model, Session.PREFILL_BATCH), prompt, steps);

        FlakyDevice device = new FlakyDevice(6);  // prompt = 2 batches of 32 and 8; fails at the 4th step
        SubtaskCompute compute = SubtaskCompute.start(model, new BackendChoice(device, "test"), 3);
        assertNotSame(ComputeBackend.cpu(), compute.backend());
        assertInstanceOf(GuardedPass.class, compute.pass());
        FullCache cache = new FullCache(model.cacheShape());
        Session s = model.newSession(cache, compute.pass());
        float[] logits = s.prefill(prompt, 0, prompt.length, true);
        List<Integer> got = new ArrayList<>();
        RuntimeException failed = null;
        for (int i = 0; i < steps && failed == null; i++) {
            int next = argmax(logits);
            got.add(next);
            try {
                logits = s.step(next);
            } catch (RuntimeException e) {
                failed = e;
            }
        }
        GuardedPass.DeviceFailedException e = assertInstanceOf(GuardedPass.DeviceFailedException.class, failed);
        assertEquals(1, device.failures.size(), "the backend is told once");
        assertSame(e.getCause(), device.failures.get(0));
        assertTrue(e.getMessage().startsWith("flaky device 7 failed during decoding at position "), e.getMessage());
        assertTrue(e.getMessage().contains("CUDA_ERROR_ILLEGAL_ADDRESS"), e.getMessage());
        assertTrue(e.getMessage().contains("restarts from its last checkpoint on the CPU"), e.getMessage());

        // the restart: the CPU resumes from the last good state (the prompt and the tokens accepted before
        // the fault, as a checkpoint holds them) and continues with the uninterrupted run's tokens
        int[] accepted = got.stream().mapToInt(Integer::intValue).toArray();
        assertArrayEquals(Arrays.copyOf(reference, accepted.length), accepted, "tokens before the fault");
        int[] resumedPrompt = Arrays.copyOf(prompt, prompt.length + accepted.length - 1);
        System.arraycopy(accepted, 0, resumedPrompt, prompt.length, accepted.length - 1);
        Session cpu = model.newSession(new FullCache(model.cacheShape()),
                ComputeBackend.cpu().newForwardPass(model, Session.PREFILL_BATCH));
        logits = cpu.prefill(resumedPrompt, 0, resumedPrompt.length, true);
        int[] rest = new int[steps - accepted.length + 1];
        for (int i = 0; i < rest.length; i++) {
            rest[i] = argmax(logits);
            logits = cpu.step(rest[i]);
        }
        assertArrayEquals(Arrays.copyOfRange(reference, accepted.length - 1, steps), rest,
                "the CPU continues with the same tokens");
        compute.close();
    }

    @Test
    void shouldPassACallersMistakeThroughWithoutMarkingTheDevice() {
        FlakyDevice device = new FlakyDevice(Integer.MAX_VALUE);
        GuardedPass pass = new GuardedPass(new ForwardPass() {
            @Override
            public LlamaModel model() {
                return model;
            }

            @Override
            public int maxBatch() {
                return 1;
            }

            @Override
            public float[] forward(KvCache cache, int[] tokens, int off, int n, int position, boolean wantLogits) {
                throw new IllegalArgumentException("position=" + position + " is past the context");
            }

            @Override
            public void close() {
            }
        }, device, 0);
        assertThrows(IllegalArgumentException.class, () -> pass.forward(null, new int[1], 0, 1, 9999, true));
        assertTrue(device.failures.isEmpty());
    }

    @Test
    void shouldNotGuardTheCpu() {
        SubtaskCompute compute = SubtaskCompute.start(model, new BackendChoice(ComputeBackend.cpu(), "test"), 0);
        assertTrue(!(compute.pass() instanceof GuardedPass));
        compute.close();
    }

    private static int[] greedy(ForwardPass pass, int[] prompt, int steps) {
        Session s = model.newSession(new FullCache(model.cacheShape()), pass);
        float[] logits = s.prefill(prompt, 0, prompt.length, true);
        int[] out = new int[steps];
        for (int i = 0; i < steps; i++) {
            out[i] = argmax(logits);
            logits = s.step(out[i]);
        }
        pass.close();
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
}
