package dev.icecache.gpu;

import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;

import java.nio.charset.StandardCharsets;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.icecache.gpu.cuda.Cuda;
import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

/**
 * Finds out once per JVM whether the GPU backend can run (stack.md section 4, style.md rule 13).
 * JCuda fails with {@link Error}s when the driver library is missing ({@code UnsatisfiedLinkError}
 * on the first call, {@code NoClassDefFoundError} on later ones), so the probe catches
 * {@link Throwable} and turns every failure into a {@link GpuStatus} with a reason.
 *
 * <p>The kernels are PTX ISA 8.0 for {@code compute_80} (see {@code src/main/cuda/build-ptx.sh}): they
 * need a CUDA 12.0 driver (r525+) and a device of compute capability 8.0 or newer (Ampere, Ada,
 * Hopper and later); older devices and drivers fall back to the CPU.
 *
 * <p>A status is cached per device for the JVM's life, except that a device whose context failed
 * while decoding ({@link #markFailed}) stays unavailable: a task restarted after a CUDA error in the
 * same JVM then runs on the CPU instead of failing again on the same device.
 */
public final class GpuProbe {

    private static final Logger LOG = LoggerFactory.getLogger(GpuProbe.class);

    /** Oldest driver that JIT-compiles PTX ISA 8.0 (CUDA 12.0, driver r525). */
    static final int MIN_DRIVER_VERSION = 12000;
    /** The PTX ISA the kernels are stamped with (build-ptx.sh's ISA). */
    static final String PTX_ISA = "8.0";
    /** The PTX target: compute_80. */
    static final int MIN_COMPUTE_MAJOR = 8;

    private static GpuStatus[] probed = new GpuStatus[0];  // [device index], guarded by GpuProbe.class
    private static boolean logged;                         // the backend line was written

    private GpuProbe() {
    }

    /**
     * The status of device {@code deviceIndex} (Flink's external resource "index" of the slot's
     * GPU), probed on the first call for that index and cached for the JVM's life.
     *
     * @throws IllegalArgumentException when the index is negative
     */
    public static synchronized GpuStatus probe(int deviceIndex) {
        if (deviceIndex < 0) {
            throw new IllegalArgumentException("GPU device index=" + deviceIndex + " must be >= 0; "
                    + "take it from Flink's external resource info (gpu 'index' property)");
        }
        if (deviceIndex >= probed.length) {
            GpuStatus[] grown = new GpuStatus[deviceIndex + 1];
            System.arraycopy(probed, 0, grown, 0, probed.length);
            probed = grown;
        }
        if (probed[deviceIndex] == null) {
            probed[deviceIndex] = probeNow(deviceIndex);
        }
        return probed[deviceIndex];
    }

    /**
     * Marks device {@code deviceIndex} unusable for the rest of this JVM after a CUDA error during
     * decoding: later probes (a restarted task's {@code open()}) answer unavailable with this reason,
     * so the restart runs on the CPU from the last checkpoint instead of failing on the GPU again.
     */
    public static synchronized void markFailed(int deviceIndex, String reason) {
        probe(deviceIndex);  // grows the cache
        GpuStatus was = probed[deviceIndex];
        probed[deviceIndex] = new GpuStatus(false, deviceIndex, was.deviceName(), was.computeMajor(),
                was.computeMinor(), was.totalMemoryBytes(), was.driverVersion(),
                "the device failed during decoding (" + reason + "); CPU until the task manager restarts");
        logged = false;  // the next choice logs the backend again
    }

    /**
     * Picks the backend: GPU only when it is enabled and the probe found a usable device. Writes
     * one INFO line, the first time, naming the backend and why.
     */
    public static synchronized Backend choose(boolean gpuEnabled, int deviceIndex) {
        GpuStatus status = gpuEnabled ? probe(deviceIndex) : null;
        Backend backend = status != null && status.available() ? Backend.GPU : Backend.CPU;
        if (!logged) {
            logged = true;
            if (status == null) {
                LOG.info("compute backend: CPU (GPU disabled by configuration)");
            } else if (backend == Backend.GPU) {
                LOG.info("compute backend: GPU device={} '{}' compute={} memory={} MiB ({})", deviceIndex,
                        status.deviceName(), status.computeCapability(), status.totalMemoryBytes() >> 20,
                        status.reason());
            } else {
                LOG.info("compute backend: CPU because {}", status.reason());
            }
        }
        return backend;
    }

    /**
     * Parses the device index Flink's external resource framework gives as a string.
     *
     * @throws IllegalArgumentException when it is not a non-negative integer
     */
    public static int parseDeviceIndex(String value) {
        try {
            int index = Integer.parseInt(value.trim());
            if (index >= 0) {
                return index;
            }
        } catch (NumberFormatException | NullPointerException e) {
            throw new IllegalArgumentException("GPU device index '" + value + "' is not a non-negative integer; "
                    + "check the gpu external resource of the task manager", e);
        }
        throw new IllegalArgumentException("GPU device index '" + value + "' is negative; "
                + "check the gpu external resource of the task manager");
    }

    private static GpuStatus probeNow(int deviceIndex) {
        try {
            JCudaDriver.setExceptionsEnabled(false);
            int rc = JCudaDriver.cuInit(0);
            if (rc != 0) {
                return GpuStatus.unavailable(deviceIndex, "cuInit failed with " + Cuda.errorName(rc)
                        + "; no usable NVIDIA driver");
            }
            int[] value = new int[1];
            Cuda.checkCu(JCudaDriver.cuDeviceGetCount(value), "cuDeviceGetCount");
            if (value[0] <= deviceIndex) {
                return GpuStatus.unavailable(deviceIndex, "device index=" + deviceIndex + " but the driver reports "
                        + value[0] + " CUDA device(s)");
            }
            CUdevice device = new CUdevice();
            Cuda.checkCu(JCudaDriver.cuDeviceGet(device, deviceIndex), "cuDeviceGet", "index", deviceIndex);
            byte[] name = new byte[256];
            Cuda.checkCu(JCudaDriver.cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
            String deviceName = cString(name);
            Cuda.checkCu(JCudaDriver.cuDeviceGetAttribute(value, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
                    "cuDeviceGetAttribute major");
            int major = value[0];
            Cuda.checkCu(JCudaDriver.cuDeviceGetAttribute(value, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device),
                    "cuDeviceGetAttribute minor");
            int minor = value[0];
            Cuda.checkCu(JCudaDriver.cuDriverGetVersion(value), "cuDriverGetVersion");
            int driver = value[0];
            long[] total = new long[1];
            Cuda.checkCu(JCudaDriver.cuDeviceTotalMem(total, device), "cuDeviceTotalMem");
            return judge(deviceIndex, deviceName, major, minor, total[0], driver);
        } catch (Throwable t) {  // JCuda reports a missing libcuda with Errors, not exceptions
            return GpuStatus.unavailable(deviceIndex, "JCuda could not reach a CUDA driver: "
                    + t.getClass().getSimpleName() + ": " + firstLine(t.getMessage()));
        }
    }

    /** The verdict on a device that was found (pure, so that the rules are unit-tested). */
    static GpuStatus judge(int index, String name, int major, int minor, long totalBytes, int driver) {
        String reason;
        boolean ok = false;
        if (driver < MIN_DRIVER_VERSION) {
            reason = "driver supports CUDA " + driver / 1000 + "." + driver % 1000 / 10
                    + " but the kernels are PTX ISA " + PTX_ISA + " and need CUDA >= 12.0 (driver r525+)";
        } else if (major < MIN_COMPUTE_MAJOR) {
            reason = "device '" + name + "' has compute capability " + major + "." + minor
                    + " but the kernels are built for compute_80 (Ampere or newer)";
        } else {
            ok = true;
            reason = "driver CUDA " + driver / 1000 + "." + driver % 1000 / 10 + ", compute " + major + "." + minor;
        }
        return new GpuStatus(ok, index, name, major, minor, totalBytes, driver, reason);
    }

    private static String cString(byte[] bytes) {
        int n = 0;
        while (n < bytes.length && bytes[n] != 0) {
            n++;
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "(no message)";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
