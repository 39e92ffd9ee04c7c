package dev.icecache.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import dev.icecache.model.gguf.GgufFile;
import dev.icecache.model.gguf.GgufMetadata;
import dev.icecache.model.compute.MatMul;
import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.GgmlType;

/**
 * A straightforward Llama forward pass in double precision over a GGUF file, written from the
 * architecture's definition independently of the engine: weights decoded with
 * {@link FloatTensor#getFloat}, full causal attention over its own K/V lists, RoPE on adjacent
 * pairs. The oracle for the engine's numerics. Products with Q8_0 weights quantize the vector to
 * int8 blocks of 32 first when the engine's decode does ({@link MatMul#int8ActivationsByDefault()}),
 * products with K-quant weights to ggml's Q8_K grid (blocks of 256) where rows are whole super-blocks
 * and {@link MatMul#kquantInt8ByDefault()}.
 */
final class ScalarLlama {

    private final int dim;
    private final int hidden;
    private final int layers;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final int vocab;
    private final double theta;
    private final double eps;
    private final boolean neox; // qwen2/qwen3: rotate pairs (i, i + headDim/2)
    private final Map<String, FloatTensor> t;
    private final double[][][] keys;   // [layer][position][kvDim]
    private final double[][][] values; // [layer][position][kvDim]
    private int position;

    ScalarLlama(Path file, int maxPositions) throws IOException {
        GgufFile gguf = GgufFile.read(file);
        GgufMetadata md = gguf.metadata();
        String p = md.getString("general.architecture", "llama") + ".";
        neox = !p.equals("llama.");
        dim = md.getInt(p + "embedding_length", -1);
        hidden = md.getInt(p + "feed_forward_length", -1);
        layers = md.getInt(p + "block_count", -1);
        heads = md.getInt(p + "attention.head_count", -1);
        kvHeads = md.getInt(p + "attention.head_count_kv", -1);
        headDim = dim / heads;
        theta = md.getFloat(p + "rope.freq_base", 10000f);
        eps = md.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-5f);
        t = gguf.mapTensors();
        vocab = (int) (t.get("token_embd.weight").size() / dim);
        keys = new double[layers][maxPositions][];
        values = new double[layers][maxPositions][];
    }

    /** Runs one token and returns the logits of its position. */
    double[] step(int token) {
        double[] x = new double[dim];
        for (int i = 0; i < dim; i++) {
            x[i] = t.get("token_embd.weight").getFloat((long) token * dim + i);
        }
        int kvDim = kvHeads * headDim;
        for (int l = 0; l < layers; l++) {
            String b = "blk." + l + ".";
            double[] xn = rmsnorm(x, t.get(b + "attn_norm.weight"));
            double[] q = matvec(b + "attn_q.weight", xn, dim, dim);
            double[] k = matvec(b + "attn_k.weight", xn, kvDim, dim);
            double[] v = matvec(b + "attn_v.weight", xn, kvDim, dim);
            if (t.containsKey(b + "attn_q.bias")) { // qwen2
                addTo(q, t.get(b + "attn_q.bias"));
                addTo(k, t.get(b + "attn_k.bias"));
                addTo(v, t.get(b + "attn_v.bias"));
            }
            if (t.containsKey(b + "attn_q_norm.weight")) { // qwen3: RMSNorm of each head
                normalizeHeads(q, t.get(b + "attn_q_norm.weight"));
                normalizeHeads(k, t.get(b + "attn_k_norm.weight"));
            }
            rotate(q);
            rotate(k);
            keys[l][position] = k;
            values[l][position] = v;
            double[] att = new double[dim];
            for (int h = 0; h < heads; h++) {
                int kvh = h / (heads / kvHeads);
                double[] scores = new double[position + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int p = 0; p <= position; p++) {
                    double s = 0;
                    for (int d = 0; d < headDim; d++) {
                        s += q[h * headDim + d] * keys[l][p][kvh * headDim + d];
                    }
                    scores[p] = s / Math.sqrt(headDim);
                    max = Math.max(max, scores[p]);
                }
                double sum = 0;
                for (int p = 0; p <= position; p++) {
                    scores[p] = Math.exp(scores[p] - max);
                    sum += scores[p];
                }
                for (int p = 0; p <= position; p++) {
                    for (int d = 0; d < headDim; d++) {
                        att[h * headDim + d] += scores[p] / sum * values[l][p][kvh * headDim + d];
                    }
                }
            }
            double[] o = matvec(b + "attn_output.weight", att, dim, dim);
            for (int i = 0; i < dim; i++) {
                x[i] += o[i];
            }
            xn = rmsnorm(x, t.get(b + "ffn_norm.weight"));
            double[] gate = matvec(b + "ffn_gate.weight", xn, hidden, dim);
            double[] up = matvec(b + "ffn_up.weight", xn, hidden, dim);
            for (int i = 0; i < hidden; i++) {
                gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
            }
            double[] down = matvec(b + "ffn_down.weight", gate, dim, hidden);
            for (int i = 0; i < dim; i++) {
                x[i] += down[i];
            }
        }
        position++;
        double[] xn = rmsnorm(x, t.get("output_norm.weight"));
        String classifier = t.containsKey("output.weight") ? "output.weight" : "token_embd.weight";
        return matvec(classifier, xn, vocab, dim);
    }

    private double[] matvec(String name, double[] x, int rows, int cols) {
        FloatTensor w = t.get(name);
        if (w.type() == GgmlType.Q8_0 && MatMul.int8ActivationsByDefault() && cols % 32 == 0) {
            x = quantizedInt8(x, 32);
        }
        boolean kQuant = w.type() == GgmlType.Q4_K || w.type() == GgmlType.Q5_K || w.type() == GgmlType.Q6_K;
        if (kQuant && MatMul.kquantInt8ByDefault() && cols % 256 == 0) {
            x = quantizedQ8K(x);
        }
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = 0; c < cols; c++) {
                s += w.getFloat((long) r * cols + c) * x[c];
            }
            out[r] = s;
        }
        return out;
    }

    /**
     * x rounded as the engine's decode step rounds it before an int8 product on Q8_0 or K-quant
     * weights (llama.cpp's route): per block, to the nearest multiple of max|x| / 127.
     */
    private static double[] quantizedInt8(double[] x, int block) {
        double[] q = new double[x.length];
        for (int b = 0; b < x.length; b += block) {
            double amax = 0;
            for (int i = b; i < b + block; i++) {
                amax = Math.max(amax, Math.abs(x[i]));
            }
            double d = amax / 127;
            for (int i = b; i < b + block; i++) {
                q[i] = d == 0 ? 0 : Math.round(x[i] / d) * d;
            }
        }
        return q;
    }

    /**
     * x rounded as the engine's decode step rounds it before an int8 product on K-quant weights:
     * ggml's Q8_K grid per block of 256 (m the element of largest magnitude: steps of m / 128, m
     * itself to -128, the opposite side clamped at 127 steps).
     */
    private static double[] quantizedQ8K(double[] x) {
        double[] q = new double[x.length];
        for (int b = 0; b < x.length; b += 256) {
            double max = 0;
            for (int i = b; i < b + 256; i++) {
                max = Math.abs(x[i]) > Math.abs(max) ? x[i] : max;
            }
            for (int i = b; i < b + 256; i++) {
                q[i] = max == 0 ? 0 : Math.min(127, Math.rint(x[i] * -128 / max)) * (-max / 128);
            }
        }
        return q;
    }

    private double[] rmsnorm(double[] x, FloatTensor w) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double scale = 1 / Math.sqrt(ss / x.length + eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = w.getFloat(i) * x[i] * scale;
        }
        return out;
    }

    private void rotate(double[] vec) {
        for (int h = 0; h < vec.length; h += headDim) {
            for (int i = 0; i < headDim / 2; i++) {
                double angle = position * Math.pow(theta, -2.0 * i / headDim);
                int a = neox ? h + i : h + 2 * i;
                int b = neox ? h + i + headDim / 2 : h + 2 * i + 1;
                double v0 = vec[a];
                double v1 = vec[b];
                vec[a] = v0 * Math.cos(angle) - v1 * Math.sin(angle);
                vec[b] = v0 * Math.sin(angle) + v1 * Math.cos(angle);
            }
        }
    }

    private static void addTo(double[] x, FloatTensor bias) {
        for (int i = 0; i < x.length; i++) {
            x[i] += bias.getFloat(i);
        }
    }

    private void normalizeHeads(double[] x, FloatTensor w) {
        for (int h = 0; h < x.length; h += headDim) {
            double[] head = rmsnorm(java.util.Arrays.copyOfRange(x, h, h + headDim), w);
            System.arraycopy(head, 0, x, h, headDim);
        }
    }
}
