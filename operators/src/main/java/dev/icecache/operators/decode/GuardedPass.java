package dev.icecache.operators.decode;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.icecache.kvcache.KvCache;
import dev.icecache.model.ComputeBackend;
import dev.icecache.model.ForwardPass;
import dev.icecache.model.LlamaModel;

/**
 * An accelerator's forward pass, guarded against device faults in the middle of decoding. A
 * failing call tells the backend ({@link ComputeBackend#markFailed}), which then stops offering
 * its device to this JVM, logs one WARN line naming the error, and fails the task with a
 * {@link DeviceFailedException}: Flink restarts it from the last checkpoint, and the restarted
 * subtask's {@code open()} chooses the CPU. The document therefore continues from its last
 * checkpointed state, exactly as a CPU run resumed from that checkpoint would.
 */
final class GuardedPass implements ForwardPass {

    private static final Logger LOG = LoggerFactory.getLogger(GuardedPass.class);

    private final ForwardPass pass;
    private final ComputeBackend backend;
    private final int subtaskIndex;

    GuardedPass(ForwardPass pass, ComputeBackend backend, int subtaskIndex) {
        this.pass = pass;
        this.backend = backend;
        this.subtaskIndex = subtaskIndex;
    }

    @Override
    public LlamaModel model() {
        return pass.model();
    }

    @Override
    public int maxBatch() {
        return pass.maxBatch();
    }

    @Override
    public float[] forward(KvCache cache, int[] tokens, int off, int n, int position, boolean wantLogits) {
        try {
            return pass.forward(cache, tokens, off, n, position, wantLogits);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw e;  // a caller's mistake or a cache rule, not the device: the CPU would fail alike
        } catch (RuntimeException e) {
            backend.markFailed(e);
            String message = backend.description() + " failed during decoding at position " + position + " ("
                    + e + "); the task restarts from its last checkpoint on the CPU";
            LOG.warn("decoder subtask {}: {}", subtaskIndex, message);
            throw new DeviceFailedException(message, e);
        }
    }

    @Override
    public long deviceBytes() {
        return pass.deviceBytes();
    }

    @Override
    public void close() {
        pass.close();
    }

    /** A device fault that failed the task; the restart runs on the CPU. */
    static final class DeviceFailedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        DeviceFailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
