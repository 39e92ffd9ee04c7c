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
}
