package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.metrics.groups.InternalOperatorMetricGroup;
import org.apache.flink.runtime.metrics.groups.UnregisteredMetricGroups;
import org.apache.flink.runtime.metrics.util.InterceptingOperatorMetricGroup;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.ComputeBackend;
import dev.icecache.model.ForwardPass;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Session;
import dev.icecache.model.backend.BackendChoice;
import dev.icecache.operators.TestModels;
import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.tokenize.PromptTemplate;
import dev.icecache.operators.tokenize.TokenChunk;

/**
 * The decoder's {@code deviceBytes} gauge, read from its metric group next to {@code liveBytes}:
 * 0 on the CPU, and an accelerator pass's device bytes (through the {@link GuardedPass}) otherwise.
 */
class DeviceBytesGaugeTest {

    private static LlamaModel model;

    @BeforeAll
    static void load() throws Exception {
        model = LlamaModel.load(TestModels.require(TestModels.STORIES_GGUF),
                new LoadOptions(null, TestModels.STORIES_CONTEXT));
    }

    /** An operator metric group that keeps every metric of it and its sub-groups by name. */
    private static final class RecordingOperatorGroup extends InterceptingOperatorMetricGroup {
        @Override
        public MetricGroup addGroup(String name) {
            return this;
        }
    }

    /** A task metric group whose operators record their metrics. */
    private static final class RecordingTaskGroup extends UnregisteredMetricGroups.UnregisteredTaskMetricGroup {
        final RecordingOperatorGroup operator = new RecordingOperatorGroup();

        @Override
        public InternalOperatorMetricGroup getOrAddOperator(OperatorID id, String name, Map<String, String> variables) {
            return operator;
        }
    }

    private static long gauge(RecordingOperatorGroup group, String name) {
        Metric metric = group.get(name);
        assertNotNull(metric, "no gauge " + name);
        return (Long) ((Gauge<?>) metric).getValue();
    }

    @Test
    void shouldReportZeroDeviceBytesOnTheCpuNextToTheLiveBytes() throws Exception {
        DecoderSettings settings = new DecoderSettings(TestModels.require(TestModels.STORIES_GGUF).toString(),
                TestModels.STORIES_CONTEXT, 256, new PromptTemplate("", ""), new GenerationSettings(4, 0f, 1f, 1, 4),
                Policy.ICECACHE, 64, 2, PageFormat.F32, 2, false);
        IceCacheDecoder decoder = new IceCacheDecoder(settings);
        RecordingTaskGroup metrics = new RecordingTaskGroup();
        try (var harness = new KeyedOneInputStreamOperatorTestHarness<>(new DecoderOperator(decoder),
                TokenChunk::docId, Types.STRING, new MockEnvironmentBuilder().setMetricGroup(metrics).build())) {
            harness.setStateBackend(new HashMapStateBackend());
            harness.open();
            assertSame(ComputeBackend.cpu(), decoder.compute().backend());
            harness.processElement(new TokenChunk("d", 0, new SplittableRandom(3).ints(60, 3, 500).toArray(), false),
                    0);
            assertTrue(gauge(metrics.operator, "liveBytes") > 0, "a live document holds heap bytes");
            assertEquals(0L, gauge(metrics.operator, "deviceBytes"), "the CPU holds no device bytes");
        }
    }

    /** An "accelerator" computing on the CPU whose pass says it holds 4096 device bytes per cache it has seen. */
    private static final class CountingDevice implements ComputeBackend {
        @Override
        public String description() {
            return "counting device";
        }

        @Override
        public ForwardPass newForwardPass(LlamaModel m, int maxBatch) {
            Map<KvCache, Boolean> seen = new IdentityHashMap<>();
            return new DelegatingPass(ComputeBackend.cpu().newForwardPass(m, maxBatch)) {
                @Override
                public float[] forward(KvCache cache, int[] tokens, int off, int n, int position, boolean wantLogits) {
                    seen.put(cache, true);
                    return super.forward(cache, tokens, off, n, position, wantLogits);
                }

                @Override
                public long deviceBytes() {
                    return 4096L * seen.size();
                }
            };
        }

        @Override
        public void close() {
        }
    }

    @Test
    void shouldReportTheAcceleratorPassesDeviceBytesThroughTheGuard() {
        SubtaskCompute compute = SubtaskCompute.start(model, new BackendChoice(new CountingDevice(), "test"), 0);
        assertInstanceOf(GuardedPass.class, compute.pass());
        RecordingOperatorGroup metrics = new RecordingOperatorGroup();
        new DocumentAdmission(1L << 30, 4, 100).registerGauges(metrics, compute.pass()::deviceBytes);
        assertEquals(0L, gauge(metrics, "deviceBytes"));
        int[] prompt = new SplittableRandom(9).ints(20, 3, 500).toArray();
        for (int doc = 0; doc < 2; doc++) {
            Session s = model.newSession(new FullCache(model.cacheShape()), compute.pass());
            s.prefill(prompt, 0, prompt.length, false);
        }
        assertEquals(8192L, gauge(metrics, "deviceBytes"), "two documents' device bytes, read when the gauge is");
        compute.close();
    }
}
