package dev.icecache.operators.decode;

import java.util.Collection;

import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.icecache.model.ComputeBackend;
import dev.icecache.model.ForwardPass;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.Session;
import dev.icecache.model.backend.BackendChoice;
import dev.icecache.model.backend.ComputeBackends;
import dev.icecache.model.backend.DeviceRegionSizes;
import dev.icecache.operators.config.IceCacheOptions;

/**
 * What a decoder subtask computes on: the backend (a GPU when enabled and a provider on the
 * class path opens the assigned device, else the CPU), one forward pass shared by the
 * subtask's documents (they run one at a time on the task thread), and why. Owned by the
 * decoder: opened in {@code open()}, closed in {@code close()}.
 */
final class SubtaskCompute implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SubtaskCompute.class);

    private final ComputeBackend backend;
    private final ForwardPass pass;
    private final String reason;

    private SubtaskCompute(ComputeBackend backend, ForwardPass pass, String reason) {
        this.backend = backend;
        this.pass = pass;
        this.reason = reason;
    }

    /**
     * Chooses the backend, creates the pass and logs one INFO line naming both and why. A GPU
     * whose pass cannot be created (out of device memory, say) falls back to the CPU with a WARN.
     *
     * @param gpus the TaskManager's GPUs as Flink's external resource framework lists them
     * @param region the device page region's sizes (the job's {@code icecache.gpu.region.*} options)
     * @throws DeviceRegionSizes.InvalidSizeException when they do not fit the device, naming the option
     */
    static SubtaskCompute open(LlamaModel model, boolean gpuEnabled, Collection<ExternalResourceInfo> gpus,
                               int subtaskIndex, DeviceRegionSizes region) {
        BackendChoice choice;
        if (!gpuEnabled) {
            choice = new BackendChoice(ComputeBackend.cpu(), IceCacheOptions.GPU_ENABLED.key() + "=false");
        } else {
            AssignedDevice device = AssignedDevice.of(gpus, subtaskIndex);
            BackendChoice found = ComputeBackends.select(device.index(), region);
            choice = new BackendChoice(found.backend(), found.reason() + " (" + device.source() + ")");
        }
        SubtaskCompute compute = start(model, choice, subtaskIndex);
        LOG.info("decoder subtask {}: compute backend {} because {}", subtaskIndex, compute.backend.description(),
                compute.reason);
        return compute;
    }

    /**
     * Opens the chosen backend's pass; an accelerator's pass is a {@link GuardedPass}, so that a
     * device fault in the middle of decoding moves the restarted task to the CPU.
     */
    static SubtaskCompute start(LlamaModel model, BackendChoice choice, int subtaskIndex) {
        ComputeBackend backend = choice.backend();
        try {
            ForwardPass pass = backend.newForwardPass(model, Session.PREFILL_BATCH);
            return new SubtaskCompute(backend, backend == ComputeBackend.cpu() ? pass
                    : new GuardedPass(pass, backend, subtaskIndex), choice.reason());
        } catch (RuntimeException e) {
            if (backend == ComputeBackend.cpu()) {
                throw e;
            }
            LOG.warn("{} could not start the model, falling back to the CPU", backend.description(), e);
            backend.close();
            ComputeBackend cpu = ComputeBackend.cpu();
            return new SubtaskCompute(cpu, cpu.newForwardPass(model, Session.PREFILL_BATCH),
                    backend.description() + " failed to start: " + e.getMessage());
        }
    }

    /** The backend in use. */
    ComputeBackend backend() {
        return backend;
    }

    /** The forward pass every document session of the subtask runs on. */
    ForwardPass pass() {
        return pass;
    }

    /** Why this backend: the providers' answers and where the device index came from. */
    String reason() {
        return reason;
    }

    /** Closes the pass, then the backend. */
    @Override
    public void close() {
        try {
            pass.close();
        } finally {
            backend.close();
        }
    }
}
