package dev.icecache.gpu.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.icecache.gpu.GpuProbe;
import dev.icecache.gpu.GpuStatus;
import dev.icecache.model.ComputeBackend;
import dev.icecache.model.backend.BackendChoice;
import dev.icecache.model.backend.ComputeBackends;

/** The gpu module's service entry: found by the lookup, and its answer follows the probe. */
class GpuBackendProviderTest {

    @Test
    void shouldBeFoundByTheServiceLookup() {
        assertTrue(ComputeBackends.providerNames().contains("gpu"), ComputeBackends.providerNames().toString());
    }

    @Test
    void shouldDeclineWithTheProbesReasonWhenTheDeviceIsUnusableAndOpenItOtherwise() {
        GpuStatus status = GpuProbe.probe(0);
        BackendChoice choice = new GpuBackendProvider().open(0);
        if (!status.available()) {
            assertTrue(choice.isDeclined(), "no usable device, yet the provider opened " + choice.backend());
            assertEquals(status.reason(), choice.reason());
        } else {
            try (ComputeBackend backend = choice.backend()) {
                assertTrue(backend.description().startsWith("GPU device 0"), backend.description());
            }
        }
    }

    @Test
    void shouldLeaveTheCpuAsTheSelectionWhenTheProbeFindsNoDevice() {
        GpuStatus status = GpuProbe.probe(0);
        BackendChoice choice = ComputeBackends.select(0);
        if (!status.available()) {
            assertSame(ComputeBackend.cpu(), choice.backend());
            assertTrue(choice.reason().contains("gpu: " + status.reason()), choice.reason());
        } else {
            try (ComputeBackend backend = choice.backend()) {
                assertTrue(backend instanceof GpuBackend, backend.description());
            }
        }
    }

    @Test
    void shouldDeclineANegativeDeviceIndex() {
        BackendChoice choice = new GpuBackendProvider().open(-1);
        assertTrue(choice.isDeclined());
        assertTrue(choice.reason().contains("index=-1"), choice.reason());
    }
}
