package dev.icecache.gpu.backend;

import java.util.HashMap;
import java.util.Map;

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

/**
 * The GPU backend on one device. Every backend of a device in this JVM shares one
 * {@link CudaContext} (reference counted), so that {@link GpuWeights} — uploaded once per
 * (context, model) — are shared by all subtasks of a TaskManager too, and one
 * {@link SharedDeviceRegion}: the device pages of every document of every subtask on the GPU.
 *
 * <p>The region's size: system property {@value #REGION_BYTES_PROPERTY} (bytes), else
 * {@value #REGION_SHARE_PERCENT}% of the device's memory; a document may lease at most
 * {@value #DOCUMENT_BYTES_PROPERTY} bytes (default: the whole region). It is allocated at the first
 * document's lease. {@value #RESIDENT_PROPERTY}=false keeps attention on the host.
 */
public final class GpuBackend implements ComputeBackend {

    /** Bytes of the GPU's shared page region (system property). */
    public static final String REGION_BYTES_PROPERTY = "icecache.gpu.region.bytes";
    /** The most one document may lease from it (system property). */
    public static final String DOCUMENT_BYTES_PROPERTY = "icecache.gpu.region.document.bytes";
    /** false: attention stays on the host (system property). */
    public static final String RESIDENT_PROPERTY = "icecache.gpu.resident";
    /** Default region size as a share of the device's memory. */
    static final int REGION_SHARE_PERCENT = 40;

    /** The shared context and page region of a device and how many open backends use them. */
    private static final class SharedContext {
        final CudaContext cuda;
        final SharedDeviceRegion region;
        int users;

        SharedContext(CudaContext cuda, SharedDeviceRegion region) {
            this.cuda = cuda;
            this.region = region;
        }
    }

    private static final Map<Integer, SharedContext> CONTEXTS = new HashMap<>(); // guarded by GpuBackend.class

    private final GpuStatus device;
    private final CudaContext cuda;
    private final SharedDeviceRegion region;
    private boolean closed;

    private GpuBackend(GpuStatus device, CudaContext cuda, SharedDeviceRegion region) {
        this.device = device;
        this.cuda = cuda;
        this.region = region;
    }

    /** The region a device of {@code totalBytes} shares, sized by the system properties. */
    static SharedDeviceRegion newRegion(CudaContext cuda, long totalBytes) {
        long bytes = Long.getLong(REGION_BYTES_PROPERTY, Math.max(1L << 20, totalBytes / 100 * REGION_SHARE_PERCENT));
        long perDocument = Long.getLong(DOCUMENT_BYTES_PROPERTY, bytes);
        return new SharedDeviceRegion(bytes, perDocument, n -> new CudaRegionMemory(cuda, n));
    }

    /** A backend on a device the probe found available. */
    static synchronized GpuBackend open(GpuStatus device) {
        SharedContext shared = CONTEXTS.get(device.deviceIndex());
        if (shared == null) {
            CudaContext cuda = new CudaContext(device.deviceIndex());
            shared = new SharedContext(cuda, newRegion(cuda, device.totalMemoryBytes()));
            CONTEXTS.put(device.deviceIndex(), shared);
        }
        shared.users++;
        return new GpuBackend(device, shared.cuda, shared.region);
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
                            Boolean.parseBoolean(System.getProperty(RESIDENT_PROPERTY, "true")) ? region : null),
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
