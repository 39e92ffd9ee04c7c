package dev.icecache.model;

/** The CPU backend: each pass is a {@link Transformer} over heap scratch buffers. Stateless. */
final class CpuBackend implements ComputeBackend {

    static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {
    }

    @Override
    public String description() {
        return "CPU (Java Vector API)";
    }

    @Override
    public ForwardPass newForwardPass(LlamaModel model, int maxBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch=" + maxBatch + " must be >= 1");
        }
        return new Transformer(model, maxBatch);
    }

    @Override
    public void close() {
        // the CPU holds nothing
    }

    @Override
    public String toString() {
        return description();
    }
}
