package dev.icecache.model.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.icecache.model.gguf.GgufFile;
import dev.icecache.model.gguf.GgufTensorInfo;
import dev.icecache.model.gguf.GgufWriter;
import dev.icecache.model.synthetic.RandomModels;
import dev.icecache.model.synthetic.WeightTypes;
import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.GgmlType;

/**
 * Tiny random-weight GGUF models that carry a given byte-level BPE vocabulary (and optionally a
 * chat template): for tokenizer parity with llama.cpp on real vocabularies and for chat tests
 * of the job. The weights are {@link RandomModels}' at a small shape whose vocabulary size is
 * the vocabulary's.
 */
public final class VocabularyModels {

    private VocabularyModels() {
    }

    /**
     * Writes {@code file}.
     *
     * @param architecture llama, qwen2 or qwen3
     * @param vocabulary a "gpt2" vocabulary with merges and token types
     * @param chatTemplate the Jinja chat template to store, or null for none
     */
    public static void write(Path file, String architecture, Vocabulary vocabulary, String chatTemplate, long seed)
            throws IOException {
        Path weights = Files.createTempFile(file.toAbsolutePath().getParent(), "weights", ".gguf");
        try {
            RandomModels.write(weights, architecture, new RandomModels.Shape(64, 96, 3, 4, 2, vocabulary.size(), 512),
                    WeightTypes.uniform(GgmlType.F32), "F32", seed, true);
            GgufFile source = GgufFile.read(weights);
            GgufWriter w = new GgufWriter().alignment(32);
            String p = architecture + ".";
            w.putString("general.architecture", architecture).putString("general.name", "vocabulary-" + architecture);
            for (String key : source.metadata().keys()) {
                if (key.startsWith(p)) {
                    Object v = source.metadata().get(key);
                    if (v instanceof Float f) {
                        w.putFloat32(key, f);
                    } else {
                        w.putUInt32(key, ((Number) v).intValue());
                    }
                }
            }
            w.putString("tokenizer.ggml.model", vocabulary.model())
                    .putString("tokenizer.ggml.pre", vocabulary.pre())
                    .putStrings("tokenizer.ggml.tokens", vocabulary.tokens())
                    .putInt32s("tokenizer.ggml.token_type", vocabulary.tokenTypes())
                    .putStrings("tokenizer.ggml.merges", vocabulary.merges().toArray(String[]::new))
                    .putBool("tokenizer.ggml.add_bos_token", vocabulary.addBos());
            if (vocabulary.bos() >= 0) {
                w.putUInt32("tokenizer.ggml.bos_token_id", vocabulary.bos());
            }
            if (vocabulary.eos() >= 0) {
                w.putUInt32("tokenizer.ggml.eos_token_id", vocabulary.eos());
            }
            if (chatTemplate != null) {
                w.putString("tokenizer.chat_template", chatTemplate);
            }
            var tensors = source.mapTensors();
            for (GgufTensorInfo info : source.tensors().values()) {
                FloatTensor t = tensors.get(info.name());
                w.addTensor(info.name(), info.type(), info.dims(), (offset, dst, n) -> t.copyTo(offset, dst, 0, n));
            }
            w.write(file);
        } finally {
            Files.deleteIfExists(weights);
        }
    }
}
