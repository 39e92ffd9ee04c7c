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
    void shouldRejectDriversOlderThanCuda12AndPreAmpereDevices() {
        GpuStatus oldDriver = GpuProbe.judge(0, "A100", 8, 0, 40L << 30, 11080);
        assertFalse(oldDriver.available());
        assertTrue(oldDriver.reason().contains("CUDA 11.8") && oldDriver.reason().contains("12.0")
                && oldDriver.reason().contains("r525"), oldDriver.reason());
        GpuStatus turing = GpuProbe.judge(1, "T4", 7, 5, 16L << 30, 12020);
        assertFalse(turing.available());
        assertTrue(turing.reason().contains("7.5") && turing.reason().contains("compute_80"), turing.reason());
        GpuStatus ampere = GpuProbe.judge(1, "A100", 8, 0, 40L << 30, 12000);
        assertTrue(ampere.available(), ampere.reason());
        GpuStatus ada = GpuProbe.judge(0, "L4", 8, 9, 24L << 30, 12040);
        assertTrue(ada.available(), ada.reason());
        GpuStatus hopper = GpuProbe.judge(0, "H200", 9, 0, 141L << 30, 13000);
        assertTrue(hopper.available());
        assertEquals("9.0", hopper.computeCapability());
    }

    @Test
    void shouldKeepADeviceThatFailedDuringDecodingOnTheCpu() {
        GpuProbe.markFailed(5, "CUDA_ERROR_ILLEGAL_ADDRESS in paged_attention");
        GpuStatus after = GpuProbe.probe(5);
        assertFalse(after.available());
        assertTrue(after.reason().contains("CUDA_ERROR_ILLEGAL_ADDRESS"), after.reason());
        assertEquals(Backend.CPU, GpuProbe.choose(true, 5));
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
