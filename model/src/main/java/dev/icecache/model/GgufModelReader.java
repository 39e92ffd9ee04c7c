package dev.icecache.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import dev.icecache.model.gguf.GgufFile;
import dev.icecache.model.gguf.GgufMetadata;
import dev.icecache.model.gguf.GgufTensorInfo;
import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tokenizer.Vocabulary;

/**
 * Builds a Llama-family model from a GGUF file: architecture from {@code general.architecture}
 * ({@code llama}, {@code qwen2}: q/k/v biases, {@code qwen3}: per-head q/k RMSNorm; both Qwens
 * rotate NeoX pairs), configuration from the {@code <arch>.*} keys, weights from the llama.cpp
 * tensor names (every shape checked against the configuration), vocabulary from the
 * {@code tokenizer.ggml.*} keys.
 */
final class GgufModelReader {

    /** The architectures this engine runs. */
    static final List<String> SUPPORTED = List.of("llama", "qwen2", "qwen3");

    private GgufModelReader() {
    }

    static LoadedModel read(Path path, LoadOptions options) throws IOException {
        GgufFile gguf = GgufFile.read(path);
        GgufMetadata md = gguf.metadata();
        String file = path.toString();
        String arch = md.getString("general.architecture", "");
        if (!SUPPORTED.contains(arch)) {
            throw new ModelFormatException(file + ": GGUF general.architecture='" + arch
                    + "' is not supported; this engine runs " + String.join(", ", SUPPORTED) + " models");
        }
        String p = arch + ".";
        Map<String, GgufTensorInfo> infos = gguf.tensors();
        int dim = required(md, file, p + "embedding_length");
        int nHeads = required(md, file, p + "attention.head_count");
        if (nHeads == 0 || dim % nHeads != 0 || (dim / nHeads) % 2 != 0) {
            throw new ModelFormatException(file + ": GGUF " + p + "attention.head_count=" + nHeads
                    + " must divide " + p + "embedding_length=" + dim + " into even head sizes; file corrupt");
        }
        int headDim = dim / nHeads;
        int keyLength = md.getInt(p + "attention.key_length", headDim);
        if (keyLength != headDim) {
            throw new ModelFormatException(file + ": GGUF " + p + "attention.key_length=" + keyLength
                    + " differs from embedding_length/head_count=" + headDim + "; such models (e.g. Qwen3-0.6B and -4B)"
                    + " are not supported yet");
        }
        int nKvHeads = md.getInt(p + "attention.head_count_kv", nHeads);
        if (nKvHeads == 0 || nHeads % nKvHeads != 0) {
            throw new ModelFormatException(file + ": GGUF " + p + "attention.head_count_kv=" + nKvHeads
                    + " must divide head_count=" + nHeads + "; file corrupt");
        }
        GgufTensorInfo embedding = infos.get("token_embd.weight");
        if (embedding == null || embedding.dims().length != 2) {
            throw new ModelFormatException(file + ": GGUF tensor 'token_embd.weight' is missing or not 2-D; not a " + arch
                    + " model");
        }
        GgufTensorInfo wq0 = infos.get("blk.0.attn_q.weight");
        ModelConfig config = new ModelConfig(
                md.getString("general.name", path.getFileName().toString()), arch, dim,
                required(md, file, p + "feed_forward_length"), required(md, file, p + "block_count"),
                nHeads, nKvHeads, headDim, (int) Math.min(Integer.MAX_VALUE, embedding.dims()[1]),
                options.contextLength() > 0 ? options.contextLength() : required(md, file, p + "context_length"),
                md.getFloat(p + "rope.freq_base", 10000f),
                md.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-5f),
                wq0 == null ? embedding.type().name() : wq0.type().name(), !arch.equals("llama"));
        checkConfig(file, config);
        return new LoadedModel(config, weights(gguf, config), vocabulary(md, file),
                md.getString("tokenizer.chat_template", null));
    }

    private static LlamaWeights weights(GgufFile gguf, ModelConfig c) throws IOException {
        String file = gguf.path().toString();
        Map<String, GgufTensorInfo> infos = gguf.tensors();
        int dim = c.dim();
        int kvDim = c.kvDim();
        int hidden = c.hiddenDim();
        int layers = c.nLayers();
        expect(file, infos, "token_embd.weight", dim, c.vocabSize());
        expect(file, infos, "output_norm.weight", dim);
        for (int l = 0; l < layers; l++) {
            String b = "blk." + l + ".";
            expect(file, infos, b + "attn_norm.weight", dim);
            expect(file, infos, b + "attn_q.weight", dim, dim);
            expect(file, infos, b + "attn_k.weight", dim, kvDim);
            expect(file, infos, b + "attn_v.weight", dim, kvDim);
            expect(file, infos, b + "attn_output.weight", dim, dim);
            expect(file, infos, b + "ffn_norm.weight", dim);
            expect(file, infos, b + "ffn_gate.weight", dim, hidden);
            expect(file, infos, b + "ffn_down.weight", hidden, dim);
            expect(file, infos, b + "ffn_up.weight", dim, hidden);
            if (c.architecture().equals("qwen2")) {
                expect(file, infos, b + "attn_q.bias", dim);
                expect(file, infos, b + "attn_k.bias", kvDim);
                expect(file, infos, b + "attn_v.bias", kvDim);
            } else if (c.architecture().equals("qwen3")) {
                expect(file, infos, b + "attn_q_norm.weight", c.headDim());
                expect(file, infos, b + "attn_k_norm.weight", c.headDim());
            }
        }
        boolean tied = !infos.containsKey("output.weight");
        if (!tied) {
            expect(file, infos, "output.weight", dim, c.vocabSize());
        }
        if (infos.containsKey("rope_freqs.weight")) {
            expect(file, infos, "rope_freqs.weight", c.headDim() / 2);
        }
        Map<String, FloatTensor> t = HeapWeights.place(gguf.mapTensors());
        FloatTensor[] wq = new FloatTensor[layers];
        FloatTensor[] wk = new FloatTensor[layers];
        FloatTensor[] wv = new FloatTensor[layers];
        FloatTensor[] wo = new FloatTensor[layers];
        FloatTensor[] w1 = new FloatTensor[layers];
        FloatTensor[] w2 = new FloatTensor[layers];
        FloatTensor[] w3 = new FloatTensor[layers];
        float[][] rmsAtt = new float[layers][];
        float[][] rmsFfn = new float[layers][];
        for (int l = 0; l < layers; l++) {
            String b = "blk." + l + ".";
            rmsAtt[l] = toArray(t.get(b + "attn_norm.weight"));
            wq[l] = t.get(b + "attn_q.weight");
            wk[l] = t.get(b + "attn_k.weight");
            wv[l] = t.get(b + "attn_v.weight");
            wo[l] = t.get(b + "attn_output.weight");
            rmsFfn[l] = toArray(t.get(b + "ffn_norm.weight"));
            w1[l] = t.get(b + "ffn_gate.weight");
            w2[l] = t.get(b + "ffn_down.weight");
            w3[l] = t.get(b + "ffn_up.weight");
        }
        FloatTensor embedding = t.get("token_embd.weight");
        FloatTensor ropeFreqs = t.get("rope_freqs.weight");
        LlamaWeights.QkvBias[] biases = null;
        LlamaWeights.QkNorm[] norms = null;
        if (c.architecture().equals("qwen2")) {
            biases = new LlamaWeights.QkvBias[layers];
            for (int l = 0; l < layers; l++) {
                String b = "blk." + l + ".";
                biases[l] = new LlamaWeights.QkvBias(toArray(t.get(b + "attn_q.bias")), toArray(t.get(b + "attn_k.bias")),
                        toArray(t.get(b + "attn_v.bias")));
            }
        } else if (c.architecture().equals("qwen3")) {
            norms = new LlamaWeights.QkNorm[layers];
            for (int l = 0; l < layers; l++) {
                String b = "blk." + l + ".";
                norms[l] = new LlamaWeights.QkNorm(toArray(t.get(b + "attn_q_norm.weight")),
                        toArray(t.get(b + "attn_k_norm.weight")));
            }
        }
        return new LlamaWeights(embedding, rmsAtt, wq, wk, wv, wo, rmsFfn, w1, w2, w3,
                toArray(t.get("output_norm.weight")), tied ? embedding : t.get("output.weight"),
                ropeFreqs == null ? null : toArray(ropeFreqs), biases, norms);
    }

    private static Vocabulary vocabulary(GgufMetadata md, String file) throws ModelFormatException {
        String[] tokens = md.getArray("tokenizer.ggml.tokens", String[].class, "an array of strings");
        if (tokens == null) {
            return null;
        }
        String model = md.getString("tokenizer.ggml.model", "llama");
        float[] scores = md.getArray("tokenizer.ggml.scores", float[].class, "an array of float32");
        int[] types = md.getArray("tokenizer.ggml.token_type", int[].class, "an array of int32");
        String[] merges = md.getArray("tokenizer.ggml.merges", String[].class, "an array of strings");
        if ((scores != null && scores.length != tokens.length) || (types != null && types.length != tokens.length)) {
            throw new ModelFormatException(file + ": GGUF tokenizer.ggml.scores/token_type lengths ("
                    + (scores == null ? "-" : scores.length) + "/" + (types == null ? "-" : types.length)
                    + ") differ from tokenizer.ggml.tokens length=" + tokens.length + "; file corrupt");
        }
        int bos = tokenId(md, file, "tokenizer.ggml.bos_token_id", tokens.length);
        int eos = tokenId(md, file, "tokenizer.ggml.eos_token_id", tokens.length);
        int unk = tokenId(md, file, "tokenizer.ggml.unknown_token_id", tokens.length);
        boolean addBos = md.getBoolean("tokenizer.ggml.add_bos_token", model.equals("llama"));
        return new Vocabulary(model, md.getString("tokenizer.ggml.pre", null), tokens, scores, types,
                merges == null ? List.of() : List.of(merges), bos, eos, unk, addBos);
    }

    private static int tokenId(GgufMetadata md, String file, String key, int vocab) throws ModelFormatException {
        if (!md.contains(key)) {
            return -1;
        }
        int id = md.getInt(key, -1);
        if (id >= vocab) {
            throw new ModelFormatException(file + ": GGUF " + key + "=" + id + " is outside the vocabulary of "
                    + vocab + " tokens; file corrupt");
        }
        return id;
    }

    private static int required(GgufMetadata md, String file, String key) throws ModelFormatException {
        int v = md.getInt(key, -1);
        if (v <= 0) {
            throw new ModelFormatException(file + ": GGUF key '" + key + "' is " + (v < 0 ? "missing" : "0")
                    + "; it must be a positive integer");
        }
        return v;
    }

    static void checkConfig(String file, ModelConfig c) throws ModelFormatException {
        long perLayer = 2L * c.dim() * c.dim() + 2L * c.dim() * c.kvDim() + 3L * c.dim() * c.hiddenDim();
        if (c.nLayers() > 4096 || perLayer > Integer.MAX_VALUE * 8L || c.contextLength() > (1 << 24)) {
            throw new ModelFormatException(file + ": model shape dim=" + c.dim() + " hidden=" + c.hiddenDim() + " layers="
                    + c.nLayers() + " context=" + c.contextLength() + " is implausibly large; file corrupt");
        }
    }

    private static void expect(String file, Map<String, GgufTensorInfo> infos, String name, long... dims)
            throws ModelFormatException {
        GgufTensorInfo t = infos.get(name);
        if (t == null) {
            throw new ModelFormatException(file + ": GGUF tensor '" + name + "' is missing; the model is incomplete");
        }
        if (!Arrays.equals(t.dims(), dims)) {
            throw new ModelFormatException(file + ": GGUF tensor '" + name + "' has shape=" + t.shape()
                    + " but the model config needs " + Arrays.toString(dims) + "; file corrupt or config keys wrong");
        }
    }

    static float[] toArray(FloatTensor t) {
        float[] a = new float[Math.toIntExact(t.size())];
        t.copyTo(0, a, 0, a.length);
        return a;
    }
}
