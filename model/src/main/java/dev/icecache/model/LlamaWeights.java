package dev.icecache.model;

import dev.icecache.model.tensor.FloatTensor;

/**
 * The weights of a Llama-family model (llama, qwen2, qwen3), read-only and shared by all sessions. Matrices are row-major
 * with one output per row ({@code [rows][cols]}, ggml dims {@code [cols, rows]}); norm weights
 * are small and live on the heap.
 *
 * @param tokenEmbedding [vocab][dim]
 * @param rmsAtt per layer [dim], attention RMSNorm weight
 * @param wq per layer [nHeads*headDim][dim]
 * @param wk per layer [kvDim][dim]
 * @param wv per layer [kvDim][dim]
 * @param wo per layer [dim][nHeads*headDim]
 * @param rmsFfn per layer [dim], feed-forward RMSNorm weight
 * @param w1 per layer [hidden][dim], gate
 * @param w2 per layer [dim][hidden], down
 * @param w3 per layer [hidden][dim], up
 * @param rmsFinal [dim]
 * @param classifier [vocab][dim]; the embedding itself when tied
 * @param ropeFrequencyFactors [headDim/2] divisors of the RoPE frequencies (Llama 3.1+ rope
 *                             scaling, GGUF {@code rope_freqs.weight}), or null
 * @param qkvBiases per layer the q, k and v biases (Qwen 2), or null when the model has none
 * @param qkNorms per layer the per-head RMSNorm weights of q and k, [headDim] each (Qwen 3), or
 *                null when the model has none
 */
public record LlamaWeights(FloatTensor tokenEmbedding, float[][] rmsAtt, FloatTensor[] wq, FloatTensor[] wk,
                           FloatTensor[] wv, FloatTensor[] wo, float[][] rmsFfn, FloatTensor[] w1, FloatTensor[] w2,
                           FloatTensor[] w3, float[] rmsFinal, FloatTensor classifier, float[] ropeFrequencyFactors,
                           QkvBias[] qkvBiases, QkNorm[] qkNorms) {

    /** One layer's additive biases of the q [nHeads*headDim], k [kvDim] and v [kvDim] projections. */
    public record QkvBias(float[] q, float[] k, float[] v) {
    }

    /** One layer's RMSNorm weights applied to every q head and every k head, [headDim] each. */
    public record QkNorm(float[] q, float[] k) {
    }

    /** A llama model's weights: no biases, no q/k norms. */
    public LlamaWeights(FloatTensor tokenEmbedding, float[][] rmsAtt, FloatTensor[] wq, FloatTensor[] wk,
                        FloatTensor[] wv, FloatTensor[] wo, float[][] rmsFfn, FloatTensor[] w1, FloatTensor[] w2,
                        FloatTensor[] w3, float[] rmsFinal, FloatTensor classifier, float[] ropeFrequencyFactors) {
        this(tokenEmbedding, rmsAtt, wq, wk, wv, wo, rmsFfn, w1, w2, w3, rmsFinal, classifier, ropeFrequencyFactors,
                null, null);
    }
}
