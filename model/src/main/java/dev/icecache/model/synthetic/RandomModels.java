package dev.icecache.model.synthetic;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

import dev.icecache.model.gguf.GgufWriter;
import dev.icecache.model.tensor.GgmlType;

/**
 * Writes Llama GGUF files with random weights at a chosen shape and tensor type, for tests and
 * benchmarks that need a model of a given size without downloading one. Weights of a matrix
 * with c columns are uniform in {@code ±1/sqrt(c)}, norm weights are near 1, so activations
 * stay in a realistic range. The same seed gives the same file. The vocabulary is
 * {@link SyntheticVocabulary}'s.
 */
public final class RandomModels {

    /**
     * A Llama shape.
     *
     * @param dim embedding width (a multiple of 32 and of nHeads)
     * @param hiddenDim feed-forward width (a multiple of 32)
     * @param nLayers blocks
     * @param nHeads query heads
     * @param nKvHeads key/value heads
     * @param vocabSize tokens, at least {@link SyntheticVocabulary#MIN_SIZE}
     * @param contextLength context length written to the metadata
     */
    public record Shape(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize, int contextLength) {

        /** The shape of Llama-3.2-1B (context cut to 4096 to keep caches small). */
        public static final Shape LLAMA_3_2_1B = new Shape(2048, 8192, 16, 32, 8, 128256, 4096);

        public Shape {
            if (dim <= 0 || dim % 32 != 0 || hiddenDim <= 0 || hiddenDim % 32 != 0 || nLayers <= 0 || nHeads <= 0
                    || dim % nHeads != 0 || (dim / nHeads) % 2 != 0 || nKvHeads <= 0 || nHeads % nKvHeads != 0
                    || vocabSize < SyntheticVocabulary.MIN_SIZE || contextLength <= 0) {
                throw new IllegalArgumentException("invalid llama shape " + this + ": dim and hiddenDim must be positive "
                        + "multiples of 32, heads must divide dim into even head sizes, kv heads must divide heads, vocab >= "
                        + SyntheticVocabulary.MIN_SIZE);
            }
        }
    }

    private RandomModels() {
    }

    /**
     * Writes a random Llama model.
     *
     * @param type type of the weight matrices and the embedding (norms are always F32, as llama.cpp writes them)
     * @param tiedClassifier whether to omit {@code output.weight} (the classifier is then the embedding)
     */
    public static void write(Path file, Shape shape, GgmlType type, long seed, boolean tiedClassifier) throws IOException {
        write(file, shape, WeightTypes.uniform(type), type.name(), seed, tiedClassifier);
    }

    /**
     * Writes a random Llama model whose weight matrices take the types of a quantization mix.
     *
     * @param mixName the mix's name for {@code general.name}, e.g. {@code "Q4_K_M"}
     */
    public static void write(Path file, Shape shape, WeightTypes types, String mixName, long seed, boolean tiedClassifier)
            throws IOException {
        write(file, "llama", shape, types, mixName, seed, tiedClassifier);
    }

    /**
     * Writes a random model of a llama-family architecture: {@code llama}; {@code qwen2} (random
     * q/k/v biases, RoPE base 1e6); {@code qwen3} (per-head q/k RMSNorm weights near 1, RoPE base 1e6).
     */
    public static void write(Path file, String architecture, Shape shape, WeightTypes types, String mixName, long seed,
                             boolean tiedClassifier) throws IOException {
        if (!architecture.equals("llama") && !architecture.equals("qwen2") && !architecture.equals("qwen3")) {
            throw new IllegalArgumentException("architecture '" + architecture + "' must be llama, qwen2 or qwen3");
        }
        String p = architecture + ".";
        int headDim = shape.dim() / shape.nHeads();
        int dim = shape.dim();
        int kvDim = shape.nKvHeads() * (dim / shape.nHeads());
        int hidden = shape.hiddenDim();
        SyntheticVocabulary vocab = SyntheticVocabulary.create(shape.vocabSize());
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", architecture)
                .putString("general.name", "random-" + architecture + "-" + dim + "x" + shape.nLayers() + "-" + mixName)
                .alignment(32)
                .putUInt32(p + "context_length", shape.contextLength())
                .putUInt32(p + "embedding_length", dim)
                .putUInt32(p + "feed_forward_length", hidden)
                .putUInt32(p + "block_count", shape.nLayers())
                .putUInt32(p + "attention.head_count", shape.nHeads())
                .putUInt32(p + "attention.head_count_kv", shape.nKvHeads())
                .putFloat32(p + "rope.freq_base", architecture.equals("llama") ? 10000f : 1e6f)
                .putFloat32(p + "attention.layer_norm_rms_epsilon", 1e-5f);
        vocab.writeTo(w);
        GgmlType embeddingType = types.of("token_embd.weight", -1, shape.nLayers(), dim);
        w.addTensor("token_embd.weight", embeddingType, new long[] {dim, shape.vocabSize()}, uniform(seed, "token_embd", 1f));
        for (int l = 0; l < shape.nLayers(); l++) {
            String b = "blk." + l + ".";
            w.addTensor(b + "attn_norm.weight", GgmlType.F32, new long[] {dim}, nearOne(seed, b + "attn_norm"));
            matrix(w, types, l, shape, b, "attn_q.weight", dim, dim, seed);
            matrix(w, types, l, shape, b, "attn_k.weight", dim, kvDim, seed);
            matrix(w, types, l, shape, b, "attn_v.weight", dim, kvDim, seed);
            matrix(w, types, l, shape, b, "attn_output.weight", dim, dim, seed);
            if (architecture.equals("qwen2")) {
                w.addTensor(b + "attn_q.bias", GgmlType.F32, new long[] {dim}, uniform(seed, b + "attn_q.bias", 0.5f));
                w.addTensor(b + "attn_k.bias", GgmlType.F32, new long[] {kvDim}, uniform(seed, b + "attn_k.bias", 0.5f));
                w.addTensor(b + "attn_v.bias", GgmlType.F32, new long[] {kvDim}, uniform(seed, b + "attn_v.bias", 0.5f));
            } else if (architecture.equals("qwen3")) {
                w.addTensor(b + "attn_q_norm.weight", GgmlType.F32, new long[] {headDim}, nearOne(seed, b + "attn_q_norm"));
                w.addTensor(b + "attn_k_norm.weight", GgmlType.F32, new long[] {headDim}, nearOne(seed, b + "attn_k_norm"));
            }
            w.addTensor(b + "ffn_norm.weight", GgmlType.F32, new long[] {dim}, nearOne(seed, b + "ffn_norm"));
            matrix(w, types, l, shape, b, "ffn_gate.weight", dim, hidden, seed);
            matrix(w, types, l, shape, b, "ffn_down.weight", hidden, dim, seed);
            matrix(w, types, l, shape, b, "ffn_up.weight", dim, hidden, seed);
        }
        w.addTensor("output_norm.weight", GgmlType.F32, new long[] {dim}, nearOne(seed, "output_norm"));
        if (!tiedClassifier) {
            matrix(w, types, -1, shape, "", "output.weight", dim, shape.vocabSize(), seed);
        }
        w.write(file);
    }

    private static void matrix(GgufWriter w, WeightTypes types, int layer, Shape shape, String prefix, String tensor,
                               int cols, int rows, long seed) {
        String name = prefix + tensor;
        w.addTensor(name, types.of(tensor, layer, shape.nLayers(), cols), new long[] {cols, rows}, uniform(seed, name, (float) (1.0 / Math.sqrt(cols))));
    }

    private static GgufWriter.TensorSource uniform(long seed, String name, float bound) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
        return (offset, dst, n) -> {
            for (int i = 0; i < n; i++) {
                dst[i] = (r.nextFloat() * 2f - 1f) * bound;
            }
        };
    }

    private static GgufWriter.TensorSource nearOne(long seed, String name) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
        return (offset, dst, n) -> {
            for (int i = 0; i < n; i++) {
                dst[i] = 0.8f + 0.4f * r.nextFloat();
            }
        };
    }
}
