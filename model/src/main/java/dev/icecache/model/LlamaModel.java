package dev.icecache.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.KvCache;
import dev.icecache.model.chat.ChatTemplate;
import dev.icecache.model.compute.ComputePool;
import dev.icecache.model.gguf.GgufFile;
import dev.icecache.model.tokenizer.Tokenizer;
import dev.icecache.model.tokenizer.Tokenizers;
import dev.icecache.model.tokenizer.Vocabulary;

/**
 * A loaded Llama-family model: configuration, memory-mapped weights and tokenizer. Immutable
 * and thread-safe; each sequence runs in its own {@link Session} over its own {@link KvCache}.
 *
 * <pre>
 *   LlamaModel model = LlamaModel.load(path, LoadOptions.defaults());
 *   Session s = model.newSession(new FullCache(model.cacheShape()));   // CPU; or newSession(cache, pass)
 *   float[] logits = s.prefill(promptTokens, 0, promptTokens.length, true);
 *   int next = sampler.sample(logits); logits = s.step(next); ...
 * </pre>
 */
public final class LlamaModel implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LlamaModel.class);

    private final ModelConfig config;
    private final LlamaWeights weights;
    private final Vocabulary vocabulary;
    private final Tokenizer tokenizer;
    private final ComputePool pool;
    private final String chatTemplate;

    private LlamaModel(LoadedModel loaded, ComputePool pool) {
        this.chatTemplate = loaded.chatTemplate();
        this.config = loaded.config();
        this.weights = loaded.weights();
        Vocabulary vocabulary = loaded.vocabulary();
        this.vocabulary = vocabulary;
        this.tokenizer = vocabulary == null ? null : Tokenizers.create(vocabulary);
        this.pool = pool;
    }

    /**
     * Loads a GGUF v3 file, or a llama2.c {@code .bin} checkpoint (told apart by the GGUF magic).
     *
     * @throws ModelFormatException when the file is corrupt, truncated or unsupported
     * @throws IOException when it cannot be read
     * @throws IllegalStateException on a Java release whose Vector API the kernels cannot use ({@link JavaRuntime})
     */
    public static LlamaModel load(Path modelFile, LoadOptions options) throws IOException {
        JavaRuntime.requireSupported();
        JavaRuntime.checkJitSettings();
        long start = System.nanoTime();
        LoadedModel loaded = isGguf(modelFile) ? GgufModelReader.read(modelFile, options) : readLlama2c(modelFile, options);
        LlamaModel model;
        try {
            model = new LlamaModel(loaded, ComputePool.shared());
        } catch (IllegalArgumentException e) {
            // the tokenizer refuses the file's vocabulary (NaN score, unknown model, ...): a corrupt file
            throw new ModelFormatException(modelFile + ": vocabulary: " + e.getMessage(), e);
        }
        ModelConfig c = model.config;
        LOG.info("model loaded: name={} weights={} params={} layers={} dim={} context={} threads={} in {} ms",
                c.name(), c.weightType(), c.parameterCount(loaded.weights().classifier() == loaded.weights().tokenEmbedding()),
                c.nLayers(), c.dim(), c.contextLength(), model.pool.parallelism(), (System.nanoTime() - start) / 1_000_000);
        return model;
    }

    /** A file without the GGUF magic must be a llama2.c checkpoint; if it is not, say both. */
    private static LoadedModel readLlama2c(Path modelFile, LoadOptions options) throws IOException {
        try {
            return Llama2cModelReader.read(modelFile, options);
        } catch (ModelFormatException e) {
            throw new ModelFormatException(e.getMessage() + " (the file does not start with the GGUF magic \"GGUF\" either)", e);
        }
    }

    private static boolean isGguf(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer magic = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(magic, 0);
            return magic.position() == 4 && magic.getInt(0) == GgufFile.MAGIC;
        }
    }

    /** The model's hyper-parameters. */
    public ModelConfig config() {
        return config;
    }

    /** The weights (read-only; shared by all sessions). */
    public LlamaWeights weights() {
        return weights;
    }

    /** The vocabulary from the file (GGUF) or the tokenizer file (llama2.c), or null when there is none. */
    public Vocabulary vocabulary() {
        return vocabulary;
    }

    /**
     * The tokenizer of the model's vocabulary.
     *
     * @throws IllegalStateException when the model has no vocabulary (a llama2.c model loaded
     *         without its {@code tokenizer.bin})
     */
    public Tokenizer tokenizer() {
        if (tokenizer == null) {
            throw new IllegalStateException("model '" + config.name()
                    + "' has no tokenizer; for a llama2.c .bin model pass its tokenizer.bin (--tokenizer)");
        }
        return tokenizer;
    }

    /**
     * The model's chat template (GGUF {@code tokenizer.chat_template}) bound to its BOS and EOS
     * token texts.
     *
     * @throws IllegalStateException with one line advising {@code --prompt} when the file has none
     */
    public ChatTemplate chatTemplate() {
        if (chatTemplate == null || vocabulary == null) {
            throw new IllegalStateException("model '" + config.name() + "' has no chat template (GGUF"
                    + " tokenizer.chat_template); write the model's prompt format with --prompt instead of --chat");
        }
        String[] tokens = vocabulary.tokens();
        return new ChatTemplate(chatTemplate, vocabulary.bos() >= 0 ? tokens[vocabulary.bos()] : "",
                vocabulary.eos() >= 0 ? tokens[vocabulary.eos()] : "");
    }

    /** Whether the file carries a chat template. */
    public boolean hasChatTemplate() {
        return chatTemplate != null;
    }

    /** The KV cache shape of one sequence of this model, with maxTokens = the context length. */
    public CacheShape cacheShape() {
        return new CacheShape(config.nLayers(), config.nHeads(), config.nKvHeads(), config.headDim(),
                config.contextLength());
    }

    /**
     * A new sequence over {@code cache}, starting at position {@code cache.length()}, with its own
     * CPU forward pass.
     */
    public Session newSession(KvCache cache) {
        return new Session(this, cache, ComputeBackend.cpu().newForwardPass(this, Session.PREFILL_BATCH));
    }

    /**
     * A new sequence over {@code cache} computed by {@code pass} (any backend's, possibly shared
     * with other sessions of the calling thread; the caller closes it).
     *
     * @throws IllegalArgumentException when the pass is another model's, or its maxBatch is below
     *         {@link Session#PREFILL_BATCH}, or the cache does not fit the model
     */
    public Session newSession(KvCache cache, ForwardPass pass) {
        return new Session(this, cache, pass);
    }

    ComputePool pool() {
        return pool;
    }

    /**
     * Releases the model. The weight mappings are unmapped by the garbage collector once no
     * session refers to them (Java 17 cannot unmap explicitly).
     */
    @Override
    public void close() {
        // nothing held beyond the mappings, which the GC releases
    }
}
