package dev.icecache.gpu.backend;

import dev.icecache.gpu.model.GpuTransformer;
import dev.icecache.gpu.model.GpuWeights;
import dev.icecache.kvcache.KvCache;
import dev.icecache.model.ForwardPass;
import dev.icecache.model.LlamaModel;

/** A {@link GpuTransformer} as the model's {@link ForwardPass}; holds one reference to the weights. */
final class GpuForwardPass implements ForwardPass {

    private final LlamaModel model;
    private final GpuWeights weights;
    private final GpuTransformer transformer;
    private final int maxBatch;
    private boolean closed;

    GpuForwardPass(LlamaModel model, GpuWeights weights, GpuTransformer transformer, int maxBatch) {
        this.model = model;
        this.weights = weights;
        this.transformer = transformer;
        this.maxBatch = maxBatch;
    }

    /** The transformer (copy counters, residency: the device checks read them). */
    GpuTransformer transformer() {
        return transformer;
    }

    @Override
    public LlamaModel model() {
        return model;
    }

    @Override
    public int maxBatch() {
        return maxBatch;
    }

    @Override
    public float[] forward(KvCache cache, int[] tokens, int off, int n, int position, boolean wantLogits) {
        return transformer.forward(cache, tokens, off, n, position, wantLogits);
    }

    /** The resident device bytes of the documents of this pass ({@link GpuTransformer#residentDeviceBytes}). */
    @Override
    public long deviceBytes() {
        return transformer.residentDeviceBytes();
    }

    /** Frees the activation buffers, then drops the weights reference (the last one frees them). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        transformer.close();
        weights.close();
    }
}
