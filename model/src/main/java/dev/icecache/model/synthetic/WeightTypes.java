package dev.icecache.model.synthetic;

import dev.icecache.model.tensor.GgmlType;

/**
 * Which ggml type each weight matrix of a random model gets, as llama.cpp's quantization mixes
 * choose them (norms stay F32). A K-quant needs rows that are multiples of 256; where a row is
 * not, llama.cpp falls back to Q5_0 (for Q4_K), Q5_1 (Q5_K) or Q8_0 (Q6_K), and so do these.
 */
@FunctionalInterface
public interface WeightTypes {

    /**
     * The type of a weight matrix.
     *
     * @param tensor llama.cpp name without the layer prefix, e.g. {@code attn_v.weight}, {@code output.weight}
     * @param layer its block, or -1 outside the blocks
     * @param nLayers blocks of the model
     * @param cols its row length
     */
    GgmlType of(String tensor, int layer, int nLayers, int cols);

    /** Every matrix in {@code type} (with the K-quant fallback for short rows). */
    static WeightTypes uniform(GgmlType type) {
        return (tensor, layer, nLayers, cols) -> fitted(type, cols);
    }

    /**
     * llama.cpp's {@code Q4_K_M}: Q4_K, with Q6_K for the classifier and for {@code attn_v} and
     * {@code ffn_down} of the first and last eighth of the blocks and every third block between.
     */
    static WeightTypes q4KM() {
        return kMix(GgmlType.Q4_K);
    }

    /** llama.cpp's {@code Q5_K_M}: {@link #q4KM}'s rule with Q5_K for the rest. */
    static WeightTypes q5KM() {
        return kMix(GgmlType.Q5_K);
    }

    private static WeightTypes kMix(GgmlType rest) {
        return (tensor, layer, nLayers, cols) -> {
            boolean moreBits = layer >= 0 && (layer < nLayers / 8 || layer >= 7 * nLayers / 8
                    || (layer - nLayers / 8) % 3 == 2);
            boolean sensitive = tensor.equals("output.weight")
                    || (moreBits && (tensor.equals("attn_v.weight") || tensor.equals("ffn_down.weight")));
            return fitted(sensitive ? GgmlType.Q6_K : rest, cols);
        };
    }

    /** {@code type}, or llama.cpp's fallback when it is a K-quant and {@code cols} is not a multiple of 256. */
    static GgmlType fitted(GgmlType type, int cols) {
        if (cols % type.blockSize() == 0) {
            return type;
        }
        return switch (type) {
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            default -> GgmlType.Q8_0;
        };
    }
}
