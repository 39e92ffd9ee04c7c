package dev.icecache.model.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The device region's sizes: defaults on a device, and every bad value named in one line. */
class DeviceRegionSizesTest {

    private static final long GIB = 1L << 30;

    private static DeviceRegionSizes sizes(long region, long document) {
        return new DeviceRegionSizes(region, document, true, "icecache.gpu.region.size",
                "icecache.gpu.region.document-size");
    }

    @AfterEach
    void clearProperties() {
        System.clearProperty(DeviceRegionSizes.REGION_BYTES_PROPERTY);
        System.clearProperty(DeviceRegionSizes.DOCUMENT_BYTES_PROPERTY);
        System.clearProperty(DeviceRegionSizes.RESIDENT_PROPERTY);
    }

    @Test
    void shouldTakeFortyPercentOfTheDeviceAndTheWholeRegionPerDocumentByDefault() {
        DeviceRegionSizes defaults = DeviceRegionSizes.defaults();
        assertEquals(80L * GIB / 100 * 40, defaults.regionBytesOn(80L * GIB));
        assertEquals(80L * GIB / 100 * 40, defaults.documentBytesOn(80L * GIB));
        assertEquals(1L << 20, defaults.regionBytesOn(1000), "a tiny device still gets a 1 MiB region");
        assertTrue(defaults.resident());
    }

    @Test
    void shouldUseExplicitSizesThatFitTheDevice() {
        DeviceRegionSizes s = sizes(8 * GIB, 2 * GIB);
        assertEquals(8 * GIB, s.regionBytesOn(80 * GIB));
        assertEquals(2 * GIB, s.documentBytesOn(80 * GIB));
        assertEquals(3 * GIB, sizes(0, 3 * GIB).documentBytesOn(10 * GIB), "default region 4 GiB holds 3 GiB");
    }

    @Test
    void shouldNameTheOptionOfANegativeSize() {
        var region = assertThrows(DeviceRegionSizes.InvalidSizeException.class, () -> sizes(-1, 0));
        assertEquals("icecache.gpu.region.size=-1 is invalid; allowed: bytes >= 0 (0 = 40% of the device's memory)",
                region.getMessage());
        var document = assertThrows(DeviceRegionSizes.InvalidSizeException.class, () -> sizes(0, -5));
        assertEquals("icecache.gpu.region.document-size=-5 is invalid; allowed: bytes >= 0 (0 = the whole region)",
                document.getMessage());
    }

    @Test
    void shouldNameBothOptionsWhenTheDocumentSizeExceedsAnExplicitRegion() {
        var e = assertThrows(DeviceRegionSizes.InvalidSizeException.class, () -> sizes(GIB, 2 * GIB));
        assertEquals("icecache.gpu.region.document-size=2147483648 is larger than icecache.gpu.region.size=1073741824:"
                + " a document cannot lease more than the region; lower it or raise icecache.gpu.region.size",
                e.getMessage());
    }

    @Test
    void shouldNameTheOptionOfASizeLargerThanTheDevice() {
        var region = assertThrows(DeviceRegionSizes.InvalidSizeException.class,
                () -> sizes(16 * GIB, 0).regionBytesOn(8 * GIB));
        assertTrue(region.getMessage().startsWith("icecache.gpu.region.size=17179869184 is larger than the device's"
                + " 8589934592 bytes"), region.getMessage());
        var document = assertThrows(DeviceRegionSizes.InvalidSizeException.class,
                () -> sizes(0, 16 * GIB).documentBytesOn(8 * GIB));
        assertTrue(document.getMessage().startsWith("icecache.gpu.region.document-size=17179869184 is larger than the"
                + " device's"), document.getMessage());
        // the default region of 10 GiB is 10 GiB / 100 * 40 = 4294967280 bytes (integer division)
        var overDefault = assertThrows(DeviceRegionSizes.InvalidSizeException.class,
                () -> sizes(0, 5 * GIB).documentBytesOn(10 * GIB));
        assertEquals("icecache.gpu.region.document-size=5368709120 is larger than the region's 4294967280 bytes"
                + " (icecache.gpu.region.size default: 40% of the device); lower it or raise icecache.gpu.region.size",
                overDefault.getMessage());
        assertFalse(overDefault.getMessage().contains("\n"));
    }

    @Test
    void shouldReadTheSystemPropertiesOfEngineAloneRuns() {
        System.setProperty(DeviceRegionSizes.REGION_BYTES_PROPERTY, "4096");
        System.setProperty(DeviceRegionSizes.DOCUMENT_BYTES_PROPERTY, "1024");
        System.setProperty(DeviceRegionSizes.RESIDENT_PROPERTY, "false");
        DeviceRegionSizes s = DeviceRegionSizes.fromSystemProperties();
        assertEquals(new DeviceRegionSizes(4096, 1024, false, DeviceRegionSizes.REGION_BYTES_PROPERTY,
                DeviceRegionSizes.DOCUMENT_BYTES_PROPERTY), s);
        System.setProperty(DeviceRegionSizes.REGION_BYTES_PROPERTY, "8gb");
        var e = assertThrows(DeviceRegionSizes.InvalidSizeException.class, DeviceRegionSizes::fromSystemProperties);
        assertEquals("icecache.gpu.region.bytes=8gb is invalid; allowed: a byte count >= 0", e.getMessage());
        clearProperties();
        assertEquals(DeviceRegionSizes.defaults(), DeviceRegionSizes.fromSystemProperties());
    }
}
