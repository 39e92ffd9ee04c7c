package dev.icecache.model;

/**
 * The hyper-parameters of a loaded Llama-family model.
 *
 * @param name model name (GGUF {@code general.name}, else the file name)
 * @param architecture GGUF {@code general.architecture}: {@code "llama"}, {@code "qwen2"} or {@code "qwen3"}
 * @param dim embedding width
 * @param hiddenDim feed-forward width
 * @param nLayers transformer blocks
 * @param nHeads query heads
 * @param nKvHeads key/value heads (grouped-query attention when fewer than nHeads)
 * @param headDim floats per head ({@code dim / nHeads})
 * @param vocabSize tokens in the vocabulary (rows of the embedding)
 * @param contextLength positions a sequence may reach
 * @param ropeTheta RoPE base frequency
 * @param rmsEps RMSNorm epsilon
 * @param weightType ggml type of the attention weights, e.g. {@code "F32"}, {@code "Q8_0"}
 * @param neoxRope whether RoPE rotates the pairs (i, i + headDim/2) of each head (GPT-NeoX style,
 *                 Qwen) instead of the adjacent pairs (2i, 2i+1) of GGUF llama models
 */
public record ModelConfig(String name, String architecture, int dim, int hiddenDim, int nLayers, int nHeads,
                          int nKvHeads, int headDim, int vocabSize, int contextLength, float ropeTheta, float rmsEps,
                          String weightType, boolean neoxRope) {

    /** A llama model's configuration (adjacent-pair RoPE). */
    public ModelConfig(String name, String architecture, int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads,
                       int headDim, int vocabSize, int contextLength, float ropeTheta, float rmsEps, String weightType) {
        this(name, architecture, dim, hiddenDim, nLayers, nHeads, nKvHeads, headDim, vocabSize, contextLength, ropeTheta,
                rmsEps, weightType, false);
    }

    /** Floats of one position's K (or V) across all KV heads. */
    public int kvDim() {
        return nKvHeads * headDim;
    }

    /** Parameters in the weight matrices and norms (embedding and classifier counted once when tied). */
    public long parameterCount(boolean tiedClassifier) {
        long perLayer = 2L * dim + 2L * dim * dim + 2L * dim * kvDim() + 3L * dim * hiddenDim;
        return (long) vocabSize * dim * (tiedClassifier ? 1 : 2) + nLayers * perLayer + dim;
    }
}
