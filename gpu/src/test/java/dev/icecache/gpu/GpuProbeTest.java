package dev.icecache.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.junit.jupiter.api.Test;

/** The probe on machines without a usable GPU (CI, this build machine) and its rules on devices it finds. */
class GpuProbeTest {

    @Test
    void shouldReportUnavailableWithAReasonAndChooseTheCpuWhenNoDriverIsPresent() {
        GpuStatus status = GpuProbe.probe(0);
        assumeFalse(status.available(), "a usable GPU is present; the fallback is tested on machines without one");
        assertFalse(status.reason().isBlank());
        assertTrue(status.reason().contains("driver") || status.reason().contains("device"), status.reason());
        assertEquals(Backend.CPU, GpuProbe.choose(true, 0));
        assertEquals(Backend.CPU, GpuProbe.choose(false, 0));
    }

    @Test
    void shouldProbeOncePerDeviceIndex() {
        assertSame(GpuProbe.probe(0), GpuProbe.probe(0));
        assertSame(GpuProbe.probe(3), GpuProbe.probe(3));
        assertThrows(IllegalArgumentException.class, () -> GpuProbe.probe(-1));
    }

    @Test
    void shouldRejectOldDriversAndPreHopperDevices() {
        GpuStatus oldDriver = GpuProbe.judge(0, "H100", 9, 0, 80L << 30, 12080);
        assertFalse(oldDriver.available());
        assertTrue(oldDriver.reason().contains("CUDA 12.8") && oldDriver.reason().contains("13.0"), oldDriver.reason());
        GpuStatus ampere = GpuProbe.judge(1, "A100", 8, 0, 40L << 30, 13000);
        assertFalse(ampere.available());
        assertTrue(ampere.reason().contains("8.0") && ampere.reason().contains("compute_90"), ampere.reason());
        GpuStatus hopper = GpuProbe.judge(0, "H200", 9, 0, 141L << 30, 13000);
        assertTrue(hopper.available());
        assertEquals("9.0", hopper.computeCapability());
    }

    @Test
    void shouldParseFlinkDeviceIndexes() {
        assertEquals(2, GpuProbe.parseDeviceIndex(" 2 "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GpuProbe.parseDeviceIndex("gpu0"));
        assertTrue(e.getMessage().contains("gpu0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GpuProbe.parseDeviceIndex("-1"));
        assertThrows(IllegalArgumentException.class, () -> GpuProbe.parseDeviceIndex(null));
    }
}
