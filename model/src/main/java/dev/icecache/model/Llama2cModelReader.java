package dev.icecache.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.GgmlType;
import dev.icecache.model.tokenizer.Llama2cTokenizerFile;
import dev.icecache.model.tokenizer.Vocabulary;

/**
 * Reads a llama2.c legacy checkpoint ({@code run.c}'s format, no magic):
 *
 * <pre>
 *   int32 dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
 *   float32 token_embedding[vocab][dim], rms_att[L][dim], wq[L][dim][dim], wk[L][kvDim][dim],
 *           wv[L][kvDim][dim], wo[L][dim][dim], rms_ffn[L][dim], w1[L][hidden][dim],
 *           w2[L][dim][hidden], w3[L][hidden][dim], rms_final[dim],
 *           freq_cis_real[seq_len][headDim/2], freq_cis_imag[seq_len][headDim/2] (unused: RoPE is computed),
 *           wcls[vocab][dim] only when vocab_size &lt; 0 (unshared classifier)
 * </pre>
 *
 * The file size must equal what the header implies; weights are memory-mapped per layer.
 */
final class Llama2cModelReader {

    private static final int HEADER_BYTES = 7 * Integer.BYTES;

    private Llama2cModelReader() {
    }

    static LoadedModel read(Path path, LoadOptions options) throws IOException {
        String file = path.toString();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            if (fileSize < HEADER_BYTES) {
                throw new ModelFormatException(file + ": file size=" + fileSize + " is smaller than a llama2.c header ("
                        + HEADER_BYTES + " bytes) and it is not GGUF; file truncated or not a model");
            }
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            int read = 0;
            while (header.hasRemaining() && read >= 0) { // the size check above guarantees the bytes are there
                read = ch.read(header, header.position());
            }
            header.flip();
            int dim = header.getInt();
            int hidden = header.getInt();
            int layers = header.getInt();
            int heads = header.getInt();
            int kvHeads = header.getInt();
            int vocabField = header.getInt();
            int seqLen = header.getInt();
            checkHeader(file, dim, hidden, layers, heads, kvHeads, vocabField, seqLen);
            boolean shared = vocabField > 0;
            int vocab = Math.abs(vocabField);
            int headDim = dim / heads;
            int kvDim = kvHeads * headDim;
            ModelConfig config = new ModelConfig(path.getFileName().toString(), "llama", dim, hidden, layers, heads,
                    kvHeads, headDim, vocab, options.contextLength() > 0 ? options.contextLength() : seqLen,
                    10000f, 1e-5f, GgmlType.F32.name());
            GgufModelReader.checkConfig(file, config);
            long perLayer = 2L * dim + 2L * dim * dim + 2L * dim * kvDim + 3L * dim * hidden;
            long floats = (long) vocab * dim + layers * perLayer + dim + (long) seqLen * headDim
                    + (shared ? 0 : (long) vocab * dim);
            long expected = HEADER_BYTES + floats * Float.BYTES;
            if (fileSize != expected) {
                throw new ModelFormatException(file + ": llama2.c header (dim=" + dim + " hidden=" + hidden + " layers="
                        + layers + " heads=" + heads + " kv_heads=" + kvHeads + " vocab=" + vocabField + " seq_len="
                        + seqLen + ") implies size=" + expected + " bytes but the file size=" + fileSize
                        + "; file truncated or corrupt");
            }
            Mapper m = new Mapper(ch, HEADER_BYTES);
            FloatTensor embedding = m.next("token_embedding", (long) vocab * dim);
            float[][] rmsAtt = m.arrays("rms_att", layers, dim);
            FloatTensor[] wq = m.layers("wq", layers, (long) dim * dim);
            FloatTensor[] wk = m.layers("wk", layers, (long) kvDim * dim);
            FloatTensor[] wv = m.layers("wv", layers, (long) kvDim * dim);
            FloatTensor[] wo = m.layers("wo", layers, (long) dim * dim);
            float[][] rmsFfn = m.arrays("rms_ffn", layers, dim);
            FloatTensor[] w1 = m.layers("w1", layers, (long) hidden * dim);
            FloatTensor[] w2 = m.layers("w2", layers, (long) dim * hidden);
            FloatTensor[] w3 = m.layers("w3", layers, (long) hidden * dim);
            float[] rmsFinal = m.arrays("rms_final", 1, dim)[0];
            m.skip((long) seqLen * headDim); // freq_cis_real and freq_cis_imag
            FloatTensor classifier = shared ? embedding : m.next("wcls", (long) vocab * dim);
            LlamaWeights weights = new LlamaWeights(embedding, rmsAtt, wq, wk, wv, wo, rmsFfn, w1, w2, w3, rmsFinal,
                    classifier, null);
            return new LoadedModel(config, weights, vocabulary(path, options, vocab));
        }
    }

    private static Vocabulary vocabulary(Path model, LoadOptions options, int vocab) throws IOException {
        Path tokenizer = options.tokenizerFile();
        if (tokenizer == null) {
            Path sibling = model.toAbsolutePath().resolveSibling("tokenizer.bin");
            if (!Files.isRegularFile(sibling)) {
                return null;
            }
            tokenizer = sibling;
        }
        try {
            return Llama2cTokenizerFile.read(tokenizer, vocab);
        } catch (IllegalArgumentException e) {
            // a corrupt tokenizer.bin is a corrupt model for callers of LlamaModel.load
            throw new ModelFormatException(e.getMessage(), e);
        }
    }

    private static void checkHeader(String file, int dim, int hidden, int layers, int heads, int kvHeads, int vocab,
                                    int seqLen) throws ModelFormatException {
        String header = "llama2.c header (dim=" + dim + " hidden=" + hidden + " layers=" + layers + " heads=" + heads
                + " kv_heads=" + kvHeads + " vocab=" + vocab + " seq_len=" + seqLen + ")";
        if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocab == 0
                || vocab == Integer.MIN_VALUE || seqLen <= 0) {
            throw new ModelFormatException(file + ": " + header
                    + " has a non-positive field; not a llama2.c model or file corrupt");
        }
        if (dim % heads != 0 || (dim / heads) % 2 != 0 || heads % kvHeads != 0) {
            throw new ModelFormatException(file + ": " + header
                    + ": heads must divide dim into even head sizes and kv_heads must divide heads; file corrupt");
        }
    }

    /** Maps consecutive F32 arrays of the file, checking each against the file size. */
    private static final class Mapper {
        private final FileChannel ch;
        private long offset;

        Mapper(FileChannel ch, long offset) {
            this.ch = ch;
            this.offset = offset;
        }

        FloatTensor next(String name, long floats) throws IOException {
            long bytes = floats * Float.BYTES;
            ByteBuffer b = ch.map(FileChannel.MapMode.READ_ONLY, offset, bytes).order(ByteOrder.LITTLE_ENDIAN);
            offset += bytes;
            return FloatTensor.of(name, GgmlType.F32, b, floats);
        }

        FloatTensor[] layers(String name, int layers, long floatsPerLayer) throws IOException {
            FloatTensor[] t = new FloatTensor[layers];
            for (int l = 0; l < layers; l++) {
                t[l] = next(name + "[" + l + "]", floatsPerLayer);
            }
            return t;
        }

        float[][] arrays(String name, int count, int floats) throws IOException {
            float[][] a = new float[count][];
            for (int i = 0; i < count; i++) {
                a[i] = GgufModelReader.toArray(next(name + "[" + i + "]", floats));
            }
            return a;
        }

        void skip(long floats) {
            offset += floats * Float.BYTES;
        }
    }
}
