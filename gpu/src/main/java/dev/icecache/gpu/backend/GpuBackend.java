package dev.icecache.gpu.backend;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongFunction;

import dev.icecache.gpu.GpuProbe;
import dev.icecache.gpu.GpuStatus;
import dev.icecache.gpu.cuda.CudaContext;
import dev.icecache.gpu.model.GpuTransformer;
import dev.icecache.gpu.model.GpuWeights;
import dev.icecache.gpu.pool.CudaRegionMemory;
import dev.icecache.gpu.pool.SharedDeviceRegion;
import dev.icecache.model.ComputeBackend;
import dev.icecache.model.ForwardPass;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.backend.DeviceRegionSizes;

/**
 * The GPU backend on one device. Every backend of a device in this JVM shares one
 * {@link CudaContext} (reference counted), so that {@link GpuWeights} — uploaded once per
 * (context, model) — are shared by all subtasks of a TaskManager too, and one
 * {@link SharedDeviceRegion}: the device pages of every document of every subtask on the GPU.
 *
 * <p>The region's size and a document's share come from {@link DeviceRegionSizes} (the job's
 * {@code icecache.gpu.region.*} options, or system properties for engine-alone runs): by default
 * {@value DeviceRegionSizes#DEFAULT_REGION_SHARE_PERCENT}% of the device's memory, the whole region
 * per document. The first backend of a device fixes them; it is allocated at the first document's
 * lease. {@code resident=false} keeps attention on the host.
 */
public final class GpuBackend implements ComputeBackend {


    /** The shared context and page region of a device and how many open backends use them. */
    private static final class SharedContext {
        final CudaContext cuda;
        final SharedDeviceRegion region;
        final boolean resident;
        int users;

        SharedContext(CudaContext cuda, SharedDeviceRegion region, boolean resident) {
            this.cuda = cuda;
            this.region = region;
            this.resident = resident;
        }
    }

    private static final Map<Integer, SharedContext> CONTEXTS = new HashMap<>(); // guarded by GpuBackend.class

    private final GpuStatus device;
    private final CudaContext cuda;
    /** The device's page region; null when attention stays on the host ({@code resident=false}). */
    private final SharedDeviceRegion region;
    private boolean closed;

    private GpuBackend(GpuStatus device, CudaContext cuda, SharedDeviceRegion region) {
        this.device = device;
        this.cuda = cuda;
        this.region = region;
    }

    /**
     * The region a device of {@code totalBytes} shares, sized by {@code sizes}, with its memory from
     * {@code memory} (checked before any device memory is touched).
     *
     * @throws DeviceRegionSizes.InvalidSizeException when the sizes do not fit the device
     */
    static SharedDeviceRegion newRegion(DeviceRegionSizes sizes, long totalBytes,
                                        LongFunction<SharedDeviceRegion.Memory> memory) {
        return new SharedDeviceRegion(sizes.regionBytesOn(totalBytes), sizes.documentBytesOn(totalBytes), memory);
    }

    /**
     * A backend on a device the probe found available; the first of a device fixes its region's
     * sizes (later ones share it).
     *
     * @throws DeviceRegionSizes.InvalidSizeException when the sizes do not fit the device
     */
    static synchronized GpuBackend open(GpuStatus device, DeviceRegionSizes sizes) {
        SharedContext shared = CONTEXTS.get(device.deviceIndex());
        if (shared == null) {
            sizes.documentBytesOn(device.totalMemoryBytes()); // a bad size fails before the context is made
            CudaContext cuda = new CudaContext(device.deviceIndex());
            shared = new SharedContext(cuda,
                    newRegion(sizes, device.totalMemoryBytes(), n -> new CudaRegionMemory(cuda, n)), sizes.resident());
            CONTEXTS.put(device.deviceIndex(), shared);
        }
        shared.users++;
        return new GpuBackend(device, shared.cuda, shared.resident ? shared.region : null);
    }

    @Override
    public String description() {
        return "GPU device " + device.deviceIndex() + " '" + device.deviceName() + "' (JCuda)";
    }

    /** Marks the device failed in {@link GpuProbe}: later probes in this JVM choose the CPU. */
    @Override
    public void markFailed(RuntimeException cause) {
        String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        int nl = message.indexOf('\n');
        GpuProbe.markFailed(device.deviceIndex(), nl < 0 ? message : message.substring(0, nl));
    }

    /**
     * A pass whose matrix products and vector ops run on the device; weights are uploaded on the
     * first pass of a model and freed when the last pass of that model closes.
     */
    @Override
    public ForwardPass newForwardPass(LlamaModel model, int maxBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch=" + maxBatch + " must be >= 1");
        }
        if (closed) {
            throw new IllegalStateException("GPU backend of device " + device.deviceIndex() + " is closed");
        }
        if (!model.config().architecture().equals("llama")) {
            throw new UnsupportedOperationException("the GPU backend runs llama models only; model '" + model.config().name()
                    + "' is " + model.config().architecture() + ": run it on the CPU backend");
        }
        cuda.makeCurrent();
        GpuWeights weights = GpuWeights.acquire(cuda, model.config(), model.weights());
        try {
            return new GpuForwardPass(model, weights,
                    new GpuTransformer(cuda, model.config(), model.weights(), weights, maxBatch,
                            region),
                    maxBatch);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    /** Drops this backend's hold on the device's context; the last one releases it. */
    @Override
    public void close() {
        synchronized (GpuBackend.class) {
            if (closed) {
                return;
            }
            closed = true;
            SharedContext shared = CONTEXTS.get(device.deviceIndex());
            if (--shared.users == 0) {
                CONTEXTS.remove(device.deviceIndex());
                shared.region.close();
                shared.cuda.close();
            }
        }
    }

    @Override
    public String toString() {
        return description();
    }
}
