package dev.icecache.operators.config;

import java.io.Serializable;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.operators.decode.GenerationSettings;
import dev.icecache.operators.tokenize.PromptTemplate;

import org.apache.flink.configuration.ReadableConfig;

/**
 * The job's settings as the operators use them, read once from {@link IceCacheOptions}.
 * Serializable so the functions carry it to the TaskManagers.
 *
 * @param modelPath model file
 * @param contextLength context override, 0 = the file's
 * @param chunkChars most characters per chunk
 * @param prompt template around each document
 * @param generation decoding settings
 * @param policy cache policy
 * @param budgetTokens resident tokens per (sparse layer, KV head)
 * @param denseLayers leading full-attention layers
 * @param pageFormat rounding of stored pages
 * @param workingSetDocuments live documents per decoder subtask
 * @param gpuEnabled whether the decoder may run on a GPU it finds
 */
public record DecoderSettings(String modelPath, int contextLength, int chunkChars, PromptTemplate prompt,
                              GenerationSettings generation, Policy policy, int budgetTokens, int denseLayers,
                              PageFormat pageFormat, int workingSetDocuments, boolean gpuEnabled)
        implements Serializable {

    public DecoderSettings {
        if (workingSetDocuments < 1) {
            throw new IllegalArgumentException(IceCacheOptions.WORKING_SET_DOCUMENTS.key() + "=" + workingSetDocuments
                    + " must be >= 1");
        }
    }

    /** Settings with the GPU enabled (the option's default). */
    public DecoderSettings(String modelPath, int contextLength, int chunkChars, PromptTemplate prompt,
                           GenerationSettings generation, Policy policy, int budgetTokens, int denseLayers,
                           PageFormat pageFormat, int workingSetDocuments) {
        this(modelPath, contextLength, chunkChars, prompt, generation, policy, budgetTokens, denseLayers, pageFormat,
                workingSetDocuments, IceCacheOptions.GPU_ENABLED.defaultValue());
    }

    /** These settings with {@code gpuEnabled} replaced. */
    public DecoderSettings withGpuEnabled(boolean enabled) {
        return new DecoderSettings(modelPath, contextLength, chunkChars, prompt, generation, policy, budgetTokens,
                denseLayers, pageFormat, workingSetDocuments, enabled);
    }

    /**
     * Reads and validates every option; a bad value fails here, naming its key.
     *
     * @throws IllegalArgumentException naming the first invalid option
     */
    public static DecoderSettings from(ReadableConfig config) {
        String model = config.getOptional(IceCacheOptions.MODEL_PATH).orElseThrow(() -> new IllegalArgumentException(
                IceCacheOptions.MODEL_PATH.key() + " is not set; give the model file (--model FILE)"));
        int context = config.get(IceCacheOptions.MODEL_CONTEXT);
        require(context >= 0, IceCacheOptions.MODEL_CONTEXT.key(), context, "must be >= 0");
        int chunk = config.get(IceCacheOptions.CHUNK_CHARS);
        require(chunk >= 16, IceCacheOptions.CHUNK_CHARS.key(), chunk, "must be >= 16");
        PromptTemplate prompt = named(IceCacheOptions.PROMPT.key(),
                () -> PromptTemplate.parse(config.get(IceCacheOptions.PROMPT)));
        GenerationSettings generation = named("icecache.generate.*", () -> new GenerationSettings(
                config.get(IceCacheOptions.MAX_TOKENS), config.get(IceCacheOptions.TEMPERATURE),
                config.get(IceCacheOptions.TOP_P), config.get(IceCacheOptions.SEED),
                config.get(IceCacheOptions.SLICE_TOKENS)));
        DecoderSettings settings = new DecoderSettings(model, context, chunk, prompt, generation,
                config.get(IceCacheOptions.POLICY), config.get(IceCacheOptions.BUDGET_TOKENS),
                config.get(IceCacheOptions.DENSE_LAYERS), config.get(IceCacheOptions.PAGE_FORMAT),
                config.get(IceCacheOptions.WORKING_SET_DOCUMENTS));
        named(IceCacheOptions.BUDGET_TOKENS.key(), settings::cacheConfig);
        return settings.withGpuEnabled(config.get(IceCacheOptions.GPU_ENABLED));
    }

    /** The kvcache configuration these settings stand for. */
    public CacheConfig cacheConfig() {
        return new CacheConfig(policy, budgetTokens, denseLayers, pageFormat, DciParams.defaults());
    }

    private static void require(boolean ok, String key, Object value, String rule) {
        if (!ok) {
            throw new IllegalArgumentException(key + "=" + value + " " + rule);
        }
    }

    private static <T> T named(String key, java.util.function.Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid " + key + ": " + e.getMessage(), e);
        }
    }
}
