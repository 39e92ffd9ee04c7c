package dev.icecache.model;

import dev.icecache.model.compute.ComputePool;
import dev.icecache.model.compute.MatMul;

/**
 * Every buffer the forward pass of one sequence needs, allocated once for batches of up to
 * {@code batch} positions (llama2.c names; {@code T} = positions in the running batch).
 */
final class InferenceState {

    final int batch;
    final float[] x;       // [T][dim] activation at the current position
    final float[] xb;      // [T][dim] same, inside a residual branch
    final float[] xb2;     // [T][dim] an additional buffer
    final float[] hb;      // [T][hiddenDim] feed-forward hidden
    final float[] hb2;     // [T][hiddenDim] feed-forward hidden
    final float[] q;       // [T][dim] query
    final float[] k;       // [T][kvDim] key
    final float[] v;       // [T][kvDim] value
    final float[] att;     // [T][dim] attention output, per head the weighted sum of values
    final float[] logits;  // [vocab] output of the last position
    final float[] ropeFrequencies; // [headDim/2] theta^(-2i/headDim), divided by the scaling factors
    final float[] ropeCos;         // [T][headDim/2] cos(position * frequency) of each position in the batch
    final float[] ropeSin;         // [T][headDim/2] sin of the same
    final MatMul matmul;

    InferenceState(ModelConfig c, LlamaWeights weights, int batch, ComputePool pool) {
        this.batch = batch;
        int dim = c.dim();
        x = new float[batch * dim];
        xb = new float[batch * dim];
        xb2 = new float[batch * dim];
        hb = new float[batch * c.hiddenDim()];
        hb2 = new float[batch * c.hiddenDim()];
        q = new float[batch * dim];
        k = new float[batch * c.kvDim()];
        v = new float[batch * c.kvDim()];
        att = new float[batch * dim];
        logits = new float[c.vocabSize()];
        ropeFrequencies = new float[c.headDim() / 2];
        ropeCos = new float[batch * (c.headDim() / 2)];
        ropeSin = new float[batch * (c.headDim() / 2)];
        float[] factors = weights.ropeFrequencyFactors();
        for (int i = 0; i < ropeFrequencies.length; i++) {
            double f = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / c.headDim());
            ropeFrequencies[i] = (float) (factors == null ? f : f / factors[i]);
        }
        matmul = new MatMul(pool, Math.max(dim, c.hiddenDim()));
    }
}
