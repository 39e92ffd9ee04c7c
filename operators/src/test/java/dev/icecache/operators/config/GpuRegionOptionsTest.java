package dev.icecache.operators.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

import dev.icecache.model.backend.DeviceRegionSizes;
import dev.icecache.operators.TestModels;

/**
 * {@code icecache.gpu.region.size}, {@code icecache.gpu.region.document-size} and
 * {@code icecache.gpu.resident}: read into the settings' {@link DeviceRegionSizes} (named by the
 * options, so the GPU backend's refusals name them too), bad values refused in one line.
 */
class GpuRegionOptionsTest {

    private static final long MIB = 1L << 20;

    private static Configuration withModel() {
        Configuration c = new Configuration();
        c.setString(IceCacheOptions.MODEL_PATH.key(), TestModels.require(TestModels.STORIES_GGUF).toString());
        return c;
    }

    @Test
    void shouldDefaultToTheSharedDefaultsNamedByTheOptions() {
        DeviceRegionSizes region = DecoderSettings.from(withModel()).deviceRegion();
        assertEquals(new DeviceRegionSizes(0, 0, true, "icecache.gpu.region.size", "icecache.gpu.region.document-size"),
                region);
        assertEquals(DecoderSettings.deviceRegionDefaults(), region);
        DeviceRegionSizes properties = DeviceRegionSizes.defaults();
        assertEquals(properties.regionBytesOn(80L << 30), region.regionBytesOn(80L << 30),
                "the options and the engine-alone properties share one default");
    }

    @Test
    void shouldReadTheSizesAndResidency() {
        Configuration c = withModel();
        c.setString(IceCacheOptions.GPU_REGION_SIZE.key(), "8 gb");
        c.setString(IceCacheOptions.GPU_DOCUMENT_SIZE.key(), "512 mb");
        c.setString(IceCacheOptions.GPU_RESIDENT.key(), "false");
        DeviceRegionSizes region = DecoderSettings.from(c).deviceRegion();
        assertEquals(8L << 30, region.regionBytes());
        assertEquals(512 * MIB, region.documentBytes());
        assertFalse(region.resident());
        assertEquals(region, DecoderSettings.from(c).withGpuEnabled(false).withMemoryBudget(MIB).deviceRegion(),
                "the other with-ers keep it");
    }

    @Test
    void shouldRefuseADocumentSizeAboveTheRegionNamingTheOption() {
        Configuration c = withModel();
        c.setString(IceCacheOptions.GPU_REGION_SIZE.key(), "1 gb");
        c.setString(IceCacheOptions.GPU_DOCUMENT_SIZE.key(), "2 gb");
        var e = assertThrows(InvalidOptionException.class, () -> DecoderSettings.from(c));
        assertEquals("icecache.gpu.region.document-size", e.option());
        assertEquals("icecache.gpu.region.document-size=2 gb is invalid; allowed: at most icecache.gpu.region.size"
                + " (1 gb): a document cannot lease more than the region", e.getMessage());
    }

    @Test
    void shouldRefuseANegativeOrUnreadableSizeNamingTheOption() {
        Configuration c = withModel();
        c.setString(IceCacheOptions.GPU_REGION_SIZE.key(), "-1 gb");
        var e = assertThrows(InvalidOptionException.class, () -> DecoderSettings.from(c));
        assertEquals("icecache.gpu.region.size", e.option());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        var negative = assertThrows(DeviceRegionSizes.InvalidSizeException.class, () -> DecoderSettings.from(withModel())
                .withDeviceRegion(new DeviceRegionSizes(0, -1, true, IceCacheOptions.GPU_REGION_SIZE.key(),
                        IceCacheOptions.GPU_DOCUMENT_SIZE.key())));
        assertEquals("icecache.gpu.region.document-size=-1 is invalid; allowed: bytes >= 0 (0 = the whole region)",
                negative.getMessage());
    }
}
