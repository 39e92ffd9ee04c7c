package dev.icecache.model;

import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.RangeRunner;
import dev.icecache.model.compute.MatMul;

/**
 * The CPU backend's forward pass over a batch of consecutive positions (one position = a
 * decode step, many = a prefill chunk), after llama2.c's {@code forward}. One pass serves the
 * llama family: Qwen 2 adds biases to q, k and v, Qwen 3 normalizes each q and k head, and both
 * rotate GPT-NeoX pairs; each of these is one optional step between the qkv matmuls and the cache. Attention goes only
 * through the {@link KvCache}: per layer the post-RoPE K and V of the batch are appended, then
 * each position attends causally. Allocates nothing per call.
 */
final class Transformer implements ForwardPass {

    private final LlamaModel model;
    private final InferenceState state;

    /** Rows of the last forward call, whose final hidden states {@code state.x} still holds. */
    private int lastRows;

    Transformer(LlamaModel model, int maxBatch) {
        this.model = model;
        this.state = new InferenceState(model.config(), model.weights(), maxBatch, model.pool());
    }

    @Override
    public LlamaModel model() {
        return model;
    }

    @Override
    public int maxBatch() {
        return state.batch;
    }

    @Override
    public float[] forward(KvCache cache, int[] tokens, int off, int n, int position, boolean wantLogits) {
        if (n < 1 || n > state.batch) {
            throw new IllegalArgumentException("n=" + n + " positions must be in [1, maxBatch=" + state.batch + "]");
        }
        forward(model.config(), model.weights(), state, model.pool(), cache, tokens, off, n, position, wantLogits);
        lastRows = n;
        return wantLogits ? state.logits : null;
    }

    @Override
    public void rowLogits(int row, float[] out) {
        ModelConfig c = model.config();
        if (row < 0 || row >= lastRows) {
            throw new IllegalArgumentException("row=" + row + " must be in [0, " + lastRows + "), the rows of the last forward call");
        }
        if (out.length < c.vocabSize()) {
            throw new IllegalArgumentException("out holds " + out.length + " floats; the vocabulary has " + c.vocabSize());
        }
        // as forward's own logits of its last row: the final rmsnorm, then the classifier
        rmsnorm(state.xb, 0, state.x, row * c.dim(), model.weights().rmsFinal(), c.dim(), c.rmsEps());
        state.matmul.apply(model.weights().classifier(), c.vocabSize(), c.dim(), state.xb, out, 1);
    }

    @Override
    public void close() {
        // heap buffers only
    }

    /**
     * Runs tokens {@code tokens[off .. off+n)} at positions {@code position ..} through the model.
     *
     * @param workers the threads that share each layer's attention (by KV head and position)
     * @param wantLogits whether to compute the logits of the last position into {@code s.logits}
     */
    private static void forward(ModelConfig c, LlamaWeights w, InferenceState s, RangeRunner workers, KvCache cache,
                                int[] tokens, int off, int n, int position, boolean wantLogits) {
        final int dim = c.dim();
        final int kvDim = c.kvDim();
        final int hidden = c.hiddenDim();
        final float eps = c.rmsEps();
        final MatMul mm = s.matmul;

        // token embeddings, and the RoPE angles of every position (shared by all layers)
        for (int t = 0; t < n; t++) {
            w.tokenEmbedding().copyTo((long) tokens[off + t] * dim, s.x, t * dim, dim);
            ropeAngles(s, t, position + t);
        }

        for (int l = 0; l < c.nLayers(); l++) {
            // attention rmsnorm
            for (int t = 0; t < n; t++) {
                rmsnorm(s.xb, t * dim, s.x, t * dim, w.rmsAtt()[l], dim, eps);
            }

            // qkv matmuls
            mm.apply(w.wq()[l], dim, dim, s.xb, s.q, n);
            mm.apply(w.wk()[l], kvDim, dim, s.xb, s.k, n);
            mm.apply(w.wv()[l], kvDim, dim, s.xb, s.v, n);

            // q, k and v biases (qwen2)
            if (w.qkvBiases() != null) {
                LlamaWeights.QkvBias bias = w.qkvBiases()[l];
                for (int t = 0; t < n; t++) {
                    addBias(s.q, t * dim, bias.q());
                    addBias(s.k, t * kvDim, bias.k());
                    addBias(s.v, t * kvDim, bias.v());
                }
            }

            // RMSNorm of every q and k head (qwen3)
            if (w.qkNorms() != null) {
                LlamaWeights.QkNorm norm = w.qkNorms()[l];
                for (int h = 0; h < n * dim; h += c.headDim()) {
                    rmsnorm(s.q, h, s.q, h, norm.q(), c.headDim(), eps);
                }
                for (int h = 0; h < n * kvDim; h += c.headDim()) {
                    rmsnorm(s.k, h, s.k, h, norm.k(), c.headDim(), eps);
                }
            }

            // RoPE: rotate the pairs of every q and k head by the position's angles
            for (int t = 0; t < n; t++) {
                if (c.neoxRope()) {
                    ropeNeox(s.q, t * dim, dim, s, t, c.headDim());
                    ropeNeox(s.k, t * kvDim, kvDim, s, t, c.headDim());
                } else {
                    rope(s.q, t * dim, dim, s, t, c.headDim());
                    rope(s.k, t * kvDim, kvDim, s, t, c.headDim());
                }
            }

            // save k and v of the batch in the cache
            for (int t = 0; t < n; t++) {
                cache.append(l, position + t, s.k, t * kvDim, s.v, t * kvDim);
            }

            // multi-head attention through the cache, the batch as one block (a sparse cache selects
            // pages once for it); position+t sees positions <= itself; the KV heads (and positions)
            // are spread over the compute threads, with the same bits for any thread count
            cache.attendBlock(l, position, n, s.q, 0, s.att, 0, workers);

            // output projection of attention
            mm.apply(w.wo()[l], dim, dim, s.att, s.xb2, n);

            // residual connection
            add(s.x, s.xb2, n * dim);

            // ffn rmsnorm
            for (int t = 0; t < n; t++) {
                rmsnorm(s.xb, t * dim, s.x, t * dim, w.rmsFfn()[l], dim, eps);
            }

            // gate (w1) and up (w3) projections
            mm.apply(w.w1()[l], hidden, dim, s.xb, s.hb, n);
            mm.apply(w.w3()[l], hidden, dim, s.xb, s.hb2, n);

            // SwiGLU: silu(gate) * up
            for (int i = 0; i < n * hidden; i++) {
                float g = s.hb[i];
                s.hb[i] = g / (1f + (float) Math.exp(-g)) * s.hb2[i];
            }

            // down projection (w2)
            mm.apply(w.w2()[l], dim, hidden, s.hb, s.xb, n);

            // residual connection
            add(s.x, s.xb, n * dim);
        }

        if (wantLogits) {
            // final rmsnorm of the last position
            rmsnorm(s.xb, 0, s.x, (n - 1) * dim, w.rmsFinal(), dim, eps);
            // classifier into logits
            mm.apply(w.classifier(), c.vocabSize(), dim, s.xb, s.logits, 1);
        }
    }

    /** out = weight * x / sqrt(mean(x^2) + eps), over {@code size} floats. */
    static void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int size, float eps) {
        double ss = 0;
        for (int i = 0; i < size; i++) {
            float xi = x[xOff + i];
            ss += xi * xi;
        }
        float scale = (float) (1.0 / Math.sqrt(ss / size + eps));
        for (int i = 0; i < size; i++) {
            out[outOff + i] = weight[i] * (scale * x[xOff + i]);
        }
    }

    /** cos and sin of position * frequency_i into row t of the angle tables. */
    private static void ropeAngles(InferenceState s, int t, int position) {
        int pairs = s.ropeFrequencies.length;
        for (int i = 0; i < pairs; i++) {
            double angle = (double) position * s.ropeFrequencies[i];
            s.ropeCos[t * pairs + i] = (float) Math.cos(angle);
            s.ropeSin[t * pairs + i] = (float) Math.sin(angle);
        }
    }

    /**
     * Rotates pairs (2i, 2i+1) of each head in {@code vec[off .. off+size)} by angle i of batch row t
     * (GGUF "llama" / llama2.c layout).
     */
    private static void rope(float[] vec, int off, int size, InferenceState s, int t, int headDim) {
        int pairs = headDim / 2;
        for (int h = off; h < off + size; h += headDim) {
            for (int i = 0; i < pairs; i++) {
                float cos = s.ropeCos[t * pairs + i];
                float sin = s.ropeSin[t * pairs + i];
                float v0 = vec[h + 2 * i];
                float v1 = vec[h + 2 * i + 1];
                vec[h + 2 * i] = v0 * cos - v1 * sin;
                vec[h + 2 * i + 1] = v0 * sin + v1 * cos;
            }
        }
    }

    /**
     * Rotates pairs (i, i + headDim/2) of each head in {@code vec[off .. off+size)} by angle i of
     * batch row t (GPT-NeoX layout, GGUF qwen2 / qwen3).
     */
    private static void ropeNeox(float[] vec, int off, int size, InferenceState s, int t, int headDim) {
        int pairs = headDim / 2;
        for (int h = off; h < off + size; h += headDim) {
            for (int i = 0; i < pairs; i++) {
                float cos = s.ropeCos[t * pairs + i];
                float sin = s.ropeSin[t * pairs + i];
                float v0 = vec[h + i];
                float v1 = vec[h + i + pairs];
                vec[h + i] = v0 * cos - v1 * sin;
                vec[h + i + pairs] = v0 * sin + v1 * cos;
            }
        }
    }

    private static void addBias(float[] x, int off, float[] bias) {
        for (int i = 0; i < bias.length; i++) {
            x[off + i] += bias[i];
        }
    }

    private static void add(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) {
            x[i] += y[i];
        }
    }
}
