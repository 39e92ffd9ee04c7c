package dev.icecache.gpu.backend;

import dev.icecache.gpu.GpuProbe;
import dev.icecache.gpu.GpuStatus;
import dev.icecache.model.backend.BackendChoice;
import dev.icecache.model.backend.ComputeBackendProvider;
import dev.icecache.model.backend.DeviceRegionSizes;

/**
 * The {@code gpu} module's entry in {@code META-INF/services}: opens a {@link GpuBackend} on the
 * device when {@link GpuProbe} finds it usable, else declines with the probe's reason (no
 * driver, no such device, driver or device too old). Loading this class touches no JCuda class.
 */
public final class GpuBackendProvider implements ComputeBackendProvider {

    /** For {@link java.util.ServiceLoader}. */
    public GpuBackendProvider() {
        // stateless
    }

    @Override
    public String name() {
        return "gpu";
    }

    @Override
    public BackendChoice open(int deviceIndex) {
        return open(deviceIndex, DeviceRegionSizes.fromSystemProperties());
    }

    @Override
    public BackendChoice open(int deviceIndex, DeviceRegionSizes sizes) {
        if (deviceIndex < 0) {
            return BackendChoice.declined("device index=" + deviceIndex + " is negative");
        }
        GpuStatus status = GpuProbe.probe(deviceIndex);
        if (!status.available()) {
            return BackendChoice.declined(status.reason());
        }
        return new BackendChoice(GpuBackend.open(status, sizes), "device " + deviceIndex + " '" + status.deviceName()
                + "' compute " + status.computeCapability() + ", " + (status.totalMemoryBytes() >> 20) + " MiB, "
                + status.reason());
    }
}
