package dev.icecache.gpu.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.icecache.gpu.GpuStatus;
import dev.icecache.gpu.pool.SharedDeviceRegion;
import dev.icecache.model.backend.DeviceRegionSizes;

/**
 * The device region {@link GpuBackend} makes from {@link DeviceRegionSizes}, over a fake device
 * memory (no GPU): its capacity and per-document budget, and sizes that do not fit the device
 * refused, naming the option, before any device memory or context is touched.
 */
class GpuBackendRegionTest {

    private static final long GIB = 1L << 30;

    private static DeviceRegionSizes sizes(long region, long document) {
        return new DeviceRegionSizes(region, document, true, "icecache.gpu.region.size",
                "icecache.gpu.region.document-size");
    }

    @Test
    void shouldSizeTheRegionAndTheDocumentBudgetFromTheSizes() {
        List<Long> allocations = new ArrayList<>();
        try (SharedDeviceRegion region = GpuBackend.newRegion(sizes(2 * GIB, GIB / 2), 80 * GIB, bytes -> {
            allocations.add(bytes);
            return new SharedDeviceRegion.Memory() {
                @Override
                public long address() {
                    return 1L << 40;
                }

                @Override
                public void close() {
                    // fake
                }
            };
        })) {
            assertEquals(2 * GIB, region.capacityBytes());
            assertEquals(GIB / 2, region.documentBudgetBytes());
            assertEquals(List.of(), allocations, "the region is allocated at the first lease, not before");
        }
        try (SharedDeviceRegion defaults = GpuBackend.newRegion(DeviceRegionSizes.defaults(), 80 * GIB, bytes -> {
            throw new AssertionError("no lease, no allocation");
        })) {
            assertEquals(80 * GIB / 100 * 40 / 256 * 256, defaults.capacityBytes(), "40% of the device, 256-aligned");
            assertEquals(80 * GIB / 100 * 40, defaults.documentBudgetBytes(), "a document may lease the whole region");
        }
    }

    @Test
    void shouldRefuseARegionLargerThanTheDeviceBeforeMakingAContext() {
        GpuStatus device = new GpuStatus(true, 3, "fake", 9, 0, 8 * GIB, 13000, "test double, no driver call");
        var e = assertThrows(DeviceRegionSizes.InvalidSizeException.class,
                () -> GpuBackend.open(device, sizes(16 * GIB, 0)));
        assertEquals("icecache.gpu.region.size=17179869184 is larger than the device's 8589934592 bytes; lower it"
                + " (0 = 40% of the device)", e.getMessage());
        var document = assertThrows(DeviceRegionSizes.InvalidSizeException.class,
                () -> GpuBackend.open(device, sizes(0, 4 * GIB)));
        assertEquals("icecache.gpu.region.document-size=4294967296 is larger than the region's 3435973800 bytes"
                + " (icecache.gpu.region.size default: 40% of the device); lower it or raise icecache.gpu.region.size",
                document.getMessage());
    }
}
