package dev.icecache.operators.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

import dev.icecache.operators.TestModels;

/** {@code icecache.gpu.enabled}: on by default, off when the configuration says so. */
class GpuEnabledOptionTest {

    private static Configuration withModel() {
        Configuration c = new Configuration();
        c.setString(IceCacheOptions.MODEL_PATH.key(), TestModels.require(TestModels.STORIES_GGUF).toString());
        return c;
    }

    @Test
    void shouldEnableTheGpuByDefault() {
        assertTrue(DecoderSettings.from(withModel()).gpuEnabled());
    }

    @Test
    void shouldReadFalseFromTheConfiguration() {
        Configuration c = withModel();
        c.setString(IceCacheOptions.GPU_ENABLED.key(), "false");
        DecoderSettings settings = DecoderSettings.from(c);
        assertFalse(settings.gpuEnabled());
        assertTrue(settings.withGpuEnabled(true).gpuEnabled());
    }
}
