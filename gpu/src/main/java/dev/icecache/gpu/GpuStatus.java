package dev.icecache.gpu;

/**
 * What {@link GpuProbe} found: a usable CUDA device, or why the CPU backend runs instead.
 *
 * @param available whether the GPU backend can run on this device
 * @param deviceIndex the CUDA device ordinal asked for
 * @param deviceName the device's name, or "" when none was found
 * @param computeMajor compute capability, major part (0 when unknown)
 * @param computeMinor compute capability, minor part
 * @param totalMemoryBytes device memory in bytes (0 when unknown)
 * @param driverVersion the driver's CUDA version as 1000*major + 10*minor (0 when unknown)
 * @param reason one line: why the GPU runs, or why it does not
 */
public record GpuStatus(boolean available, int deviceIndex, String deviceName, int computeMajor, int computeMinor,
                        long totalMemoryBytes, int driverVersion, String reason) {

    /** A status saying the CPU backend runs because of {@code reason}. */
    public static GpuStatus unavailable(int deviceIndex, String reason) {
        return new GpuStatus(false, deviceIndex, "", 0, 0, 0, 0, reason);
    }

    /** Compute capability as "major.minor". */
    public String computeCapability() {
        return computeMajor + "." + computeMinor;
    }
}
