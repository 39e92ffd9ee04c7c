package dev.icecache.model.backend;

import dev.icecache.model.ComputeBackend;

/**
 * A service that offers an accelerator backend, found at run time with {@link
 * java.util.ServiceLoader} (a {@code META-INF/services/dev.icecache.model.backend.ComputeBackendProvider}
 * entry in the provider's jar), so that callers need no compile-time dependency on it. The
 * {@code gpu} module provides one for NVIDIA GPUs.
 */
public interface ComputeBackendProvider {

    /** A short name for logs and reasons, e.g. "gpu". */
    String name();

    /**
     * Opens the backend on device {@code deviceIndex}, or declines with the reason it cannot
     * (no driver, no such device, device too old). Must not throw for a missing device.
     */
    BackendChoice open(int deviceIndex);

    /**
     * Opens the backend on device {@code deviceIndex} with its page region sized by {@code sizes};
     * a provider without a device region ignores them.
     *
     * @throws DeviceRegionSizes.InvalidSizeException when the sizes do not fit the device
     */
    default BackendChoice open(int deviceIndex, DeviceRegionSizes sizes) {
        return open(deviceIndex);
    }
}
