package dev.icecache.model.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.icecache.model.ComputeBackend;

/** Selection over the test providers of META-INF/services (see {@link TestProviders}). */
class ComputeBackendsTest {

    @Test
    void shouldListTheProvidersThatLoadInServiceOrder() {
        assertEquals(List.of("declining", "throwing", "seventh"), ComputeBackends.providerNames());
    }

    @Test
    void shouldFallBackToTheCpuWithEveryProvidersReasonWhenNoneOpensTheDevice() {
        BackendChoice choice = ComputeBackends.select(0);
        assertFalse(choice.isDeclined());
        assertSame(ComputeBackend.cpu(), choice.backend());
        String reason = choice.reason();
        assertTrue(reason.contains("declining: no test device 0"), reason);
        assertTrue(reason.contains("a backend provider failed to load") && reason.contains("NoSuchProvider"), reason);
        assertTrue(reason.contains("throwing: not device 5"), reason);
        assertTrue(reason.contains("seventh: only device 7"), reason);
        assertTrue(reason.indexOf("declining") < reason.indexOf("throwing")
                && reason.indexOf("throwing") < reason.indexOf("seventh"), "reasons in service order: " + reason);
    }

    @Test
    void shouldTakeTheFirstProviderThatOpensTheDevice() {
        BackendChoice choice = ComputeBackends.select(7);
        assertInstanceOf(TestProviders.DeviceSeven.class, choice.backend());
        assertEquals("device 7 is the test device", choice.reason());
    }

    @Test
    void shouldTreatAProviderThatThrowsAsDecliningAndNameTheFailure() {
        BackendChoice choice = ComputeBackends.select(5);
        assertSame(ComputeBackend.cpu(), choice.backend());
        assertTrue(choice.reason().contains("throwing: failed to open device 5")
                && choice.reason().contains("driver exploded on device 5"), choice.reason());
    }

    @Test
    void shouldFailWithTheOptionsNameWhenTheRegionDoesNotFitTheDeviceInsteadOfFallingBackToTheCpu() {
        DeviceRegionSizes tooLarge = new DeviceRegionSizes(TestProviders.SEVENTH_DEVICE_BYTES + 1, 0, true,
                "icecache.gpu.region.size", "icecache.gpu.region.document-size");
        var e = assertThrows(DeviceRegionSizes.InvalidSizeException.class, () -> ComputeBackends.select(7, tooLarge));
        assertEquals("icecache.gpu.region.size=1073741825 is larger than the device's 1073741824 bytes; lower it"
                + " (0 = 40% of the device)", e.getMessage());
        DeviceRegionSizes fits = new DeviceRegionSizes(TestProviders.SEVENTH_DEVICE_BYTES, 0, true, "r", "d");
        assertInstanceOf(TestProviders.DeviceSeven.class, ComputeBackends.select(7, fits).backend());
        assertSame(ComputeBackend.cpu(), ComputeBackends.select(0, tooLarge).backend(),
                "no provider opened device 0, so its sizes were never checked");
    }

    @Test
    void shouldRefuseAChoiceWithoutAReason() {
        assertThrows(IllegalArgumentException.class, () -> BackendChoice.declined(" "));
        assertThrows(IllegalArgumentException.class, () -> new BackendChoice(ComputeBackend.cpu(), null));
    }
}
