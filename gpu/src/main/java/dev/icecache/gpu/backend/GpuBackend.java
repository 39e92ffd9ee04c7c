package dev.icecache.gpu.backend;

import java.util.HashMap;
import java.util.Map;

import dev.icecache.gpu.GpuProbe;
import dev.icecache.gpu.GpuStatus;
import dev.icecache.gpu.cuda.CudaContext;
import dev.icecache.gpu.model.GpuTransformer;
import dev.icecache.gpu.model.GpuWeights;
import dev.icecache.model.ComputeBackend;
import dev.icecache.model.ForwardPass;
import dev.icecache.model.LlamaModel;

/**
 * The GPU backend on one device. Every backend of a device in this JVM shares one
 * {@link CudaContext} (reference counted), so that {@link GpuWeights} — uploaded once per
 * (context, model) — are shared by all subtasks of a TaskManager too.
 */
public final class GpuBackend implements ComputeBackend {

    /** The shared context of a device and how many open backends use it. */
    private static final class SharedContext {
        final CudaContext cuda;
        int users;

        SharedContext(CudaContext cuda) {
            this.cuda = cuda;
        }
    }

    private static final Map<Integer, SharedContext> CONTEXTS = new HashMap<>(); // guarded by GpuBackend.class

    private final GpuStatus device;
    private final CudaContext cuda;
    private boolean closed;

    private GpuBackend(GpuStatus device, CudaContext cuda) {
        this.device = device;
        this.cuda = cuda;
    }

    /** A backend on a device the probe found available. */
    static synchronized GpuBackend open(GpuStatus device) {
        SharedContext shared = CONTEXTS.get(device.deviceIndex());
        if (shared == null) {
            shared = new SharedContext(new CudaContext(device.deviceIndex()));
            CONTEXTS.put(device.deviceIndex(), shared);
        }
        shared.users++;
        return new GpuBackend(device, shared.cuda);
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
                    new GpuTransformer(cuda, model.config(), model.weights(), weights, maxBatch), maxBatch);
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
                shared.cuda.close();
            }
        }
    }

    @Override
    public String toString() {
        return description();
    }
}
