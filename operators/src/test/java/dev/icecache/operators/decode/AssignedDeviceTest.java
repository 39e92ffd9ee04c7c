package dev.icecache.operators.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.junit.jupiter.api.Test;

/** The device index of a subtask from Flink's GPU external resource infos. */
class AssignedDeviceTest {

    /** An external resource info with fixed properties, as Flink's GPU driver reports them. */
    private record Info(Map<String, String> properties) implements ExternalResourceInfo {
        @Override
        public Optional<String> getProperty(String key) {
            return Optional.ofNullable(properties.get(key));
        }

        @Override
        public Collection<String> getKeys() {
            return properties.keySet();
        }
    }

    private static Info gpu(String index) {
        return new Info(Map.of("index", index));
    }

    @Test
    void shouldAssumeDeviceZeroWithoutAGpuResourceAndSaySo() {
        AssignedDevice d = AssignedDevice.of(Set.of(), 3);
        assertEquals(0, d.index());
        assertTrue(d.source().contains("no Flink 'gpu' external resource"), d.source());
    }

    @Test
    void shouldShareTheTaskManagersGpusOutBySubtaskIndexInIndexOrder() {
        List<ExternalResourceInfo> gpus = List.of(gpu("3"), gpu(" 1"), gpu("2"));
        int[] expected = {1, 2, 3, 1, 2};
        for (int subtask = 0; subtask < expected.length; subtask++) {
            AssignedDevice d = AssignedDevice.of(gpus, subtask);
            assertEquals(expected[subtask], d.index(), "subtask " + subtask);
            assertTrue(d.source().contains("[1, 2, 3]") && d.source().contains("subtask " + subtask), d.source());
        }
    }

    @Test
    void shouldRejectAGpuResourceWithoutAUsableIndex() {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> AssignedDevice.of(List.of(new Info(Map.of("uuid", "GPU-1"))), 0));
        assertTrue(missing.getMessage().contains("no 'index' property") && missing.getMessage().contains("uuid"),
                missing.getMessage());
        for (String bad : new String[] {"abc", "-2", ""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> AssignedDevice.of(List.of(gpu(bad)), 0));
            assertTrue(e.getMessage().contains("index='" + bad + "'"), e.getMessage());
        }
    }
}
