package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.icecache.gpu.GpuProbe;
import dev.icecache.gpu.GpuStatus;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.ComputeBackend;
import dev.icecache.model.Session;
import dev.icecache.operators.TestModels;
import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.output.SummaryPiece;
import dev.icecache.operators.tokenize.PromptTemplate;
import dev.icecache.operators.tokenize.TokenChunk;

/**
 * The backend the decoder picks in open(), with the gpu module on the class path as in the job
 * jar: a GPU only when the probe finds a usable device, else the CPU with the probe's reason.
 */
class DecoderBackendHarnessTest {

    private static DecoderSettings settings;

    @BeforeAll
    static void settings() {
        String path = TestModels.require(TestModels.STORIES_GGUF).toString();
        settings = new DecoderSettings(path, TestModels.STORIES_CONTEXT, 256, new PromptTemplate("", ""),
                new GenerationSettings(12, 0f, 1f, 1, 4), Policy.ICECACHE, 64, 2, PageFormat.F32, 2, true);
    }

    @Test
    void shouldRunOnTheCpuAndSayWhyWhenTheGpuIsEnabledButTheProbeFindsNoDevice() throws Exception {
        GpuStatus probe = GpuProbe.probe(0);
        IceCacheDecoder decoder = new IceCacheDecoder(settings);
        try (var harness = newHarness(decoder)) {
            harness.open();
            SubtaskCompute compute = decoder.compute();
            if (probe.available()) {
                assertTrue(compute.backend().description().startsWith("GPU device 0"), compute.backend().description());
            } else {
                assertSame(ComputeBackend.cpu(), compute.backend());
                assertTrue(compute.reason().contains("gpu: " + probe.reason()), compute.reason());
                assertTrue(compute.reason().contains("device 0 assumed"), "the harness declares no gpu resource: "
                        + compute.reason());
            }
            assertEquals(TestModels.STORIES_CONTEXT, compute.pass().model().cacheShape().maxTokens(),
                    "the pass runs the decoder's model");
            assertEquals(Session.PREFILL_BATCH, compute.pass().maxBatch());
        }
        assertNull(decoder.compute(), "close() releases the backend");
    }

    @Test
    void shouldRunOnTheCpuWhenTheGpuIsDisabledWithTheSameOutput() throws Exception {
        int[] prompt = new SplittableRandom(11).ints(90, 3, 500).toArray();
        IceCacheDecoder disabled = new IceCacheDecoder(settings.withGpuEnabled(false));
        String cpuText;
        try (var harness = newHarness(disabled)) {
            harness.open();
            assertSame(ComputeBackend.cpu(), disabled.compute().backend());
            assertEquals("icecache.gpu.enabled=false", disabled.compute().reason());
            cpuText = run(harness, prompt);
        }
        IceCacheDecoder enabled = new IceCacheDecoder(settings);
        try (var harness = newHarness(enabled)) {
            harness.open();
            assertEquals(cpuText, run(harness, prompt), "the chosen backend (" + enabled.compute().backend()
                    .description() + ") decodes as the CPU does");
        }
        assertFalse(cpuText.isEmpty());
    }

    private static String run(KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> harness,
                              int[] prompt) throws Exception {
        harness.processElement(new TokenChunk("d", 0, prompt, true), 0);
        for (long t = 0; harness.numProcessingTimeTimers() > 0; t++) {
            assertTrue(t < 100, "generation did not end");
            harness.setProcessingTime(t);
        }
        StringBuilder text = new StringBuilder();
        harness.extractOutputValues().forEach(p -> text.append(p.text()));
        return text.toString();
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, TokenChunk, SummaryPiece> newHarness(
            IceCacheDecoder decoder) throws Exception {
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(new DecoderOperator(decoder), TokenChunk::docId,
                Types.STRING);
        harness.setStateBackend(new HashMapStateBackend());
        return harness;
    }
}
