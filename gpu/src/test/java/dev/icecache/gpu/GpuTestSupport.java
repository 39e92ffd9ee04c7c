package dev.icecache.gpu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Path;
import dev.icecache.model.TestModels;

/**
 * What the GPU tests share: the device index (system property {@code icecache.gpu.device},
 * default 0), the skip when the probe finds no usable device, and the shared models (system
 * property {@code icecache.models.dir}; a missing file fails when {@code CI=true}, else skips).
 */
public final class GpuTestSupport {

    private GpuTestSupport() {
    }

    /** The device to test on; skips the test when the probe finds it unusable. */
    public static int requireDevice() {
        int index = Integer.getInteger("icecache.gpu.device", 0);
        GpuStatus status = GpuProbe.probe(index);
        assumeTrue(status.available(), "no GPU: " + status.reason());
        return index;
    }

    /** The path of {@code relative} under the models dir, or a skip/failure when it is missing. */
    public static Path requireModel(String relative) {
        return TestModels.require(relative);
    }

    /** Space-separated ints of a reference file. */
    public static int[] readIds(Path file) throws IOException {
        return TestModels.readIds(file);
    }
}
