package dev.icecache.operators.decode;

import dev.icecache.kvcache.KvCache;
import dev.icecache.model.ForwardPass;
import dev.icecache.model.LlamaModel;

/** A test "accelerator" pass that computes with another pass (the CPU's); tests override what they fake. */
class DelegatingPass implements ForwardPass {

    private final ForwardPass delegate;

    DelegatingPass(ForwardPass delegate) {
        this.delegate = delegate;
    }

    @Override
    public LlamaModel model() {
        return delegate.model();
    }

    @Override
    public int maxBatch() {
        return delegate.maxBatch();
    }

    @Override
    public float[] forward(KvCache cache, int[] tokens, int off, int n, int position, boolean wantLogits) {
        return delegate.forward(cache, tokens, off, n, position, wantLogits);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
