package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.icecache.gpu.GpuProbe;
import dev.icecache.gpu.GpuStatus;
import dev.icecache.model.ComputeBackend;
import dev.icecache.model.backend.BackendChoice;
import dev.icecache.model.backend.ComputeBackends;

/**
 * The job's class path carries the gpu module at run time: the service lookup finds its provider,
 * and without a usable device the selection is the CPU with the provider's reason.
 */
class GpuBackendOnJobClasspathTest {

    @Test
    void shouldFindTheGpuProviderThroughTheServiceLookup() {
        assertTrue(ComputeBackends.providerNames().contains("gpu"),
                "job runtime class path lacks the gpu provider: " + ComputeBackends.providerNames());
    }

    @Test
    void shouldSelectTheCpuWithTheGpuProvidersReasonWhenNoDeviceIsUsable() {
        GpuStatus status = GpuProbe.probe(0);
        BackendChoice choice = ComputeBackends.select(0);
        try (ComputeBackend backend = choice.backend()) {
            if (status.available()) {
                assertTrue(backend.description().startsWith("GPU device 0"), backend.description());
            } else {
                assertSame(ComputeBackend.cpu(), backend);
                assertTrue(choice.reason().startsWith("gpu: ") && choice.reason().contains(status.reason()),
                        choice.reason());
            }
        }
    }
}
