package dev.icecache.model;

import dev.icecache.model.tensor.FloatTensor;

/**
 * The weights of a Llama model, read-only and shared by all sessions. Matrices are row-major
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
 */
public record LlamaWeights(FloatTensor tokenEmbedding, float[][] rmsAtt, FloatTensor[] wq, FloatTensor[] wk,
                           FloatTensor[] wv, FloatTensor[] wo, float[][] rmsFfn, FloatTensor[] w1, FloatTensor[] w2,
                           FloatTensor[] w3, float[] rmsFinal, FloatTensor classifier, float[] ropeFrequencyFactors) {
}
