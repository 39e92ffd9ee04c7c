package dev.icecache.model;

/**
 * Where a model's forward pass runs: the CPU ({@link #cpu()}, always available and the oracle of
 * every other backend) or an accelerator that {@link dev.icecache.model.backend.ComputeBackends}
 * finds through a {@link dev.icecache.model.backend.ComputeBackendProvider}. Thread-safe; one
 * backend serves many passes and models.
 *
 * <pre>
 *   ComputeBackend backend = ComputeBackends.select(deviceIndex).backend();   // or ComputeBackend.cpu()
 *   ForwardPass pass = backend.newForwardPass(model, Session.PREFILL_BATCH);
 *   Session s = model.newSession(cache, pass);
 *   ...; pass.close(); backend.close();
 * </pre>
 */
public interface ComputeBackend extends AutoCloseable {

    /** The CPU backend (Vector API); its passes hold only heap buffers. */
    static ComputeBackend cpu() {
        return CpuBackend.INSTANCE;
    }

    /** One line naming the backend and its device, for logs. */
    String description();

    /**
     * A new forward pass of {@code model} for batches of up to {@code maxBatch} positions; on an
     * accelerator this uploads the model's weights on first use (shared by later passes).
     *
     * @throws IllegalArgumentException when maxBatch is below 1
     */
    ForwardPass newForwardPass(LlamaModel model, int maxBatch);

    /**
     * Told that a pass of this backend failed at run time (a device error in the middle of
     * decoding). An accelerator stops offering its device to this JVM, so that the task, restarted
     * from its last checkpoint, runs on the CPU instead of failing on the same device again. The
     * CPU backend ignores it.
     */
    default void markFailed(RuntimeException cause) {
    }

    /** Releases the backend's device (nothing on the CPU); passes must be closed first. */
    @Override
    void close();
}
