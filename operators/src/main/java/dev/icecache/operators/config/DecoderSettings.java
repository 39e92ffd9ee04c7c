package dev.icecache.operators.config;

import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.model.backend.DeviceRegionSizes;
import dev.icecache.operators.decode.GenerationSettings;
import dev.icecache.operators.decode.OverflowMode;
import dev.icecache.operators.document.TextChunker;
import dev.icecache.operators.tokenize.PromptTemplate;

import org.apache.flink.configuration.ConfigOption;
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
 * @param documentIdleTimeout how long an unfinished document may go without a chunk before the
 *                            tokenizer ends it; zero = wait forever
 * @param memoryBudgetBytes heap bytes the live documents of one decoder subtask may hold; 0 = derived
 *                          from the TaskManager's heap ({@link IceCacheOptions#MEMORY_BUDGET})
 * @param deviceRegion the GPU page region's sizes and residency ({@link IceCacheOptions#GPU_REGION_SIZE},
 *                     {@link IceCacheOptions#GPU_DOCUMENT_SIZE}, {@link IceCacheOptions#GPU_RESIDENT})
 */
public record DecoderSettings(String modelPath, int contextLength, int chunkChars, PromptTemplate prompt,
                              GenerationSettings generation, Policy policy, int budgetTokens, int denseLayers,
                              PageFormat pageFormat, int workingSetDocuments, boolean gpuEnabled,
                              Duration documentIdleTimeout, long memoryBudgetBytes, DeviceRegionSizes deviceRegion)
        implements Serializable {

    public DecoderSettings {
        if (workingSetDocuments < 1) {
            throw new InvalidOptionException(IceCacheOptions.WORKING_SET_DOCUMENTS.key(), workingSetDocuments,
                    "an integer >= 1");
        }
        if (documentIdleTimeout == null || documentIdleTimeout.isNegative()) {
            throw new InvalidOptionException(IceCacheOptions.DOCUMENT_IDLE_TIMEOUT.key(), documentIdleTimeout,
                    "a duration >= 0 (0 = wait forever), e.g. '10 min'");
        }
        if (memoryBudgetBytes < 0) {
            throw new InvalidOptionException(IceCacheOptions.MEMORY_BUDGET.key(), memoryBudgetBytes,
                    "a memory size >= 0 (0 = derived from the TaskManager's heap), e.g. '2 gb'");
        }
        if (deviceRegion == null) {
            throw new InvalidOptionException(IceCacheOptions.GPU_REGION_SIZE.key(), null, "a memory size >= 0");
        }
    }

    /** Settings with the GPU region's defaults (the options' defaults). */
    public DecoderSettings(String modelPath, int contextLength, int chunkChars, PromptTemplate prompt,
                           GenerationSettings generation, Policy policy, int budgetTokens, int denseLayers,
                           PageFormat pageFormat, int workingSetDocuments, boolean gpuEnabled,
                           Duration documentIdleTimeout, long memoryBudgetBytes) {
        this(modelPath, contextLength, chunkChars, prompt, generation, policy, budgetTokens, denseLayers, pageFormat,
                workingSetDocuments, gpuEnabled, documentIdleTimeout, memoryBudgetBytes, deviceRegionDefaults());
    }

    /** The GPU region's sizes the options default to, named by the options. */
    public static DeviceRegionSizes deviceRegionDefaults() {
        return deviceRegion(IceCacheOptions.GPU_REGION_SIZE.defaultValue().getBytes(),
                IceCacheOptions.GPU_DOCUMENT_SIZE.defaultValue().getBytes(), IceCacheOptions.GPU_RESIDENT.defaultValue());
    }

    private static DeviceRegionSizes deviceRegion(long regionBytes, long documentBytes, boolean resident) {
        return new DeviceRegionSizes(regionBytes, documentBytes, resident, IceCacheOptions.GPU_REGION_SIZE.key(),
                IceCacheOptions.GPU_DOCUMENT_SIZE.key());
    }

    /** Settings with the derived memory budget (the option's default). */
    public DecoderSettings(String modelPath, int contextLength, int chunkChars, PromptTemplate prompt,
                           GenerationSettings generation, Policy policy, int budgetTokens, int denseLayers,
                           PageFormat pageFormat, int workingSetDocuments, boolean gpuEnabled,
                           Duration documentIdleTimeout) {
        this(modelPath, contextLength, chunkChars, prompt, generation, policy, budgetTokens, denseLayers, pageFormat,
                workingSetDocuments, gpuEnabled, documentIdleTimeout, 0L);
    }

    /** Settings without an idle timeout (the option's default). */
    public DecoderSettings(String modelPath, int contextLength, int chunkChars, PromptTemplate prompt,
                           GenerationSettings generation, Policy policy, int budgetTokens, int denseLayers,
                           PageFormat pageFormat, int workingSetDocuments, boolean gpuEnabled) {
        this(modelPath, contextLength, chunkChars, prompt, generation, policy, budgetTokens, denseLayers, pageFormat,
                workingSetDocuments, gpuEnabled, IceCacheOptions.DOCUMENT_IDLE_TIMEOUT.defaultValue());
    }

    /** Budgets below this many tokens leave no page to retrieve beyond sink and window. */
    static final int MIN_BUDGET_TOKENS = 64;
    /** Context lengths above this are not a Llama model's (the model reader's own limit). */
    static final int MAX_CONTEXT = 1 << 24;

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
                denseLayers, pageFormat, workingSetDocuments, enabled, documentIdleTimeout, memoryBudgetBytes,
                deviceRegion);
    }

    /** These settings with {@code documentIdleTimeout} replaced. */
    public DecoderSettings withDocumentIdleTimeout(Duration timeout) {
        return new DecoderSettings(modelPath, contextLength, chunkChars, prompt, generation, policy, budgetTokens,
                denseLayers, pageFormat, workingSetDocuments, gpuEnabled, timeout, memoryBudgetBytes,
                deviceRegion);
    }

    /** These settings with {@code memoryBudgetBytes} replaced (0 = derived from the TaskManager's heap). */
    public DecoderSettings withMemoryBudget(long bytes) {
        return new DecoderSettings(modelPath, contextLength, chunkChars, prompt, generation, policy, budgetTokens,
                denseLayers, pageFormat, workingSetDocuments, gpuEnabled, documentIdleTimeout, bytes,
                deviceRegion);
    }

    /** These settings with {@code region} replaced (the GPU page region's sizes and residency). */
    public DecoderSettings withDeviceRegion(DeviceRegionSizes region) {
        return new DecoderSettings(modelPath, contextLength, chunkChars, prompt, generation, policy, budgetTokens,
                denseLayers, pageFormat, workingSetDocuments, gpuEnabled, documentIdleTimeout, memoryBudgetBytes,
                region);
    }

    /**
     * Reads and validates every option; a bad value fails here, naming its key, the value and
     * the allowed range.
     *
     * @throws InvalidOptionException naming the first invalid option
     */
    public static DecoderSettings from(ReadableConfig config) {
        String model = config.getOptional(IceCacheOptions.MODEL_PATH).orElseThrow(() -> new InvalidOptionException(
                IceCacheOptions.MODEL_PATH.key(), null, "the path of a GGUF or llama2.c model file (--model FILE)"));
        if (!Files.isRegularFile(Path.of(model)) || !Files.isReadable(Path.of(model))) {
            throw new InvalidOptionException(IceCacheOptions.MODEL_PATH.key(), model,
                    "an existing, readable model file (this one is missing or not a file)");
        }
        int context = get(config, IceCacheOptions.MODEL_CONTEXT);
        require(context >= 0 && context <= MAX_CONTEXT, IceCacheOptions.MODEL_CONTEXT, context,
                "0 (the model file's) or a length in [1, " + MAX_CONTEXT + "]");
        int chunk = get(config, IceCacheOptions.CHUNK_CHARS);
        require(chunk >= TextChunker.MIN_CHUNK_CHARS, IceCacheOptions.CHUNK_CHARS, chunk,
                "an integer >= " + TextChunker.MIN_CHUNK_CHARS);
        String template = get(config, IceCacheOptions.PROMPT);
        require(template.indexOf(PromptTemplate.PLACEHOLDER) == template.lastIndexOf(PromptTemplate.PLACEHOLDER),
                IceCacheOptions.PROMPT, template, "text with '" + PromptTemplate.PLACEHOLDER + "' at most once");
        boolean chat = get(config, IceCacheOptions.PROMPT_CHAT);
        String system = config.getOptional(IceCacheOptions.PROMPT_SYSTEM).orElse(null);
        require(system == null || chat, IceCacheOptions.PROMPT_SYSTEM, system,
                "unset unless " + IceCacheOptions.PROMPT_CHAT.key() + " is true (--system needs --chat)");
        PromptTemplate prompt = chat ? PromptTemplate.parse(template).asChat(system) : PromptTemplate.parse(template);
        int maxTokens = get(config, IceCacheOptions.MAX_TOKENS);
        require(maxTokens >= 0, IceCacheOptions.MAX_TOKENS, maxTokens, "an integer >= 0");
        float temperature = get(config, IceCacheOptions.TEMPERATURE);
        require(temperature >= 0f && Float.isFinite(temperature), IceCacheOptions.TEMPERATURE, temperature,
                "a finite number >= 0 (0 = greedy)");
        float topP = get(config, IceCacheOptions.TOP_P);
        require(topP > 0f && topP <= 1f, IceCacheOptions.TOP_P, topP, "a number in (0, 1]");
        int slice = get(config, IceCacheOptions.SLICE_TOKENS);
        require(slice >= 1, IceCacheOptions.SLICE_TOKENS, slice, "an integer >= 1");
        int rollingEvery = get(config, IceCacheOptions.ROLLING_EVERY);
        require(rollingEvery == 0 || rollingEvery >= GenerationSettings.MIN_ROLLING_EVERY,
                IceCacheOptions.ROLLING_EVERY, rollingEvery, "0 (off) or an integer >= "
                        + GenerationSettings.MIN_ROLLING_EVERY + " (document tokens between rolling summaries)");
        int rollingMax = get(config, IceCacheOptions.ROLLING_MAX_TOKENS);
        require(rollingMax >= 1, IceCacheOptions.ROLLING_MAX_TOKENS, rollingMax, "an integer >= 1");
        require(rollingEvery == 0 || !PromptTemplate.parse(template).suffix().isEmpty(), IceCacheOptions.PROMPT,
                template, "with " + IceCacheOptions.ROLLING_EVERY.key() + " > 0, a template with an instruction after '"
                        + PromptTemplate.PLACEHOLDER + "' (rolling summaries append it)");
        String overflowText = get(config, IceCacheOptions.OVERFLOW);
        OverflowMode overflow;
        try {
            overflow = OverflowMode.parse(overflowText);
        } catch (IllegalArgumentException e) {
            throw new InvalidOptionException(IceCacheOptions.OVERFLOW.key(), overflowText,
                    "one of reject, refine, map-reduce");
        }
        int segmentTokens = get(config, IceCacheOptions.SEGMENT_TOKENS);
        require(segmentTokens >= 0, IceCacheOptions.SEGMENT_TOKENS, segmentTokens,
                "0 (derived from the context) or an integer >= 1");
        Policy policy = get(config, IceCacheOptions.POLICY);
        int budget = get(config, IceCacheOptions.BUDGET_TOKENS);
        require(budget >= MIN_BUDGET_TOKENS && budget % CacheConfig.PAGE_ROWS == 0, IceCacheOptions.BUDGET_TOKENS,
                budget, "a multiple of the page size " + CacheConfig.PAGE_ROWS + ", at least " + MIN_BUDGET_TOKENS
                        + " (sink + window + retrieved pages)");
        int dense = get(config, IceCacheOptions.DENSE_LAYERS);
        require(dense >= 0, IceCacheOptions.DENSE_LAYERS, dense, "an integer >= 0");
        PageFormat format = get(config, IceCacheOptions.PAGE_FORMAT);
        int workingSet = get(config, IceCacheOptions.WORKING_SET_DOCUMENTS);
        DecoderSettings settings = new DecoderSettings(model, context, chunk, prompt,
                new GenerationSettings(maxTokens, temperature, topP, get(config, IceCacheOptions.SEED), slice,
                        rollingEvery, rollingMax, overflow, segmentTokens),
                policy, budget, dense, format, workingSet);
        settings.cacheConfig(); // kvcache's own checks, already implied by the ones above
        Duration idle = get(config, IceCacheOptions.DOCUMENT_IDLE_TIMEOUT);
        require(!idle.isNegative(), IceCacheOptions.DOCUMENT_IDLE_TIMEOUT, config.toMap().get(
                IceCacheOptions.DOCUMENT_IDLE_TIMEOUT.key()), "a duration >= 0 (0 = wait forever), e.g. '10 min'");
        long memoryBudget = get(config, IceCacheOptions.MEMORY_BUDGET).getBytes();
        long regionBytes = get(config, IceCacheOptions.GPU_REGION_SIZE).getBytes();
        long documentBytes = get(config, IceCacheOptions.GPU_DOCUMENT_SIZE).getBytes();
        require(regionBytes == 0 || documentBytes <= regionBytes, IceCacheOptions.GPU_DOCUMENT_SIZE,
                config.toMap().get(IceCacheOptions.GPU_DOCUMENT_SIZE.key()), "at most "
                        + IceCacheOptions.GPU_REGION_SIZE.key() + " (" + config.toMap().get(
                        IceCacheOptions.GPU_REGION_SIZE.key()) + "): a document cannot lease more than the region");
        return settings.withGpuEnabled(get(config, IceCacheOptions.GPU_ENABLED)).withDocumentIdleTimeout(idle)
                .withMemoryBudget(memoryBudget).withDeviceRegion(deviceRegion(regionBytes, documentBytes,
                        get(config, IceCacheOptions.GPU_RESIDENT)));
    }

    /**
     * The kvcache configuration these settings stand for. NOTE: the decoder keeps the IceCache
     * settings from before issue 18 ({@code DciParams.bestKeyDefaults()}): its trees and page ids
     * are in the frozen savepoints (FrozenSnapshotTest, FrozenRollingSnapshotTest). Moving it to
     * {@code DciParams.defaults()} needs a new decoder state version (new frozen savepoints).
     */
    public CacheConfig cacheConfig() {
        return new CacheConfig(policy, budgetTokens, denseLayers, pageFormat, DciParams.bestKeyDefaults());
    }

    private static void require(boolean ok, ConfigOption<?> option, Object value, String allowed) {
        if (!ok) {
            throw new InvalidOptionException(option.key(), value, allowed);
        }
    }

    /** The option's value; a value that does not parse (e.g. an unknown policy) is named with its key. */
    private static <T> T get(ReadableConfig config, ConfigOption<T> option) {
        try {
            return config.get(option);
        } catch (IllegalArgumentException e) {
            String raw = config.toMap().get(option.key());
            throw new InvalidOptionException(option.key(), raw, allowedValues(option));
        }
    }

    private static String allowedValues(ConfigOption<?> option) {
        Object fallback = option.hasDefaultValue() ? option.defaultValue() : "";
        if (fallback instanceof Enum<?> e) {
            return "one of " + java.util.Arrays.toString(e.getDeclaringClass().getEnumConstants());
        }
        if (fallback instanceof org.apache.flink.configuration.MemorySize) {
            return "a memory size >= 0 such as '512 mb' or '2 gb'";
        }
        if (fallback instanceof Duration) {
            return "a duration >= 0 such as '30 s' or '10 min'";
        }
        return "a value of type " + fallback.getClass().getSimpleName();
    }
}
