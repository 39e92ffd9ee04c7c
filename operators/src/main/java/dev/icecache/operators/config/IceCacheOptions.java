package dev.icecache.operators.config;

import static org.apache.flink.configuration.ConfigOptions.key;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.backend.DeviceRegionSizes;
import dev.icecache.operators.decode.DocumentAdmission;
import dev.icecache.operators.decode.GenerationSettings;

import java.time.Duration;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.MemorySize;

/**
 * Every option of the summarization job, under the {@code icecache.} prefix. They can be set in
 * a cluster's {@code config.yaml}, in the job configuration, or through {@code bin/icecache
 * summarize} flags; {@link DecoderSettings#from} is the one place that reads them.
 */
public final class IceCacheOptions {

    private IceCacheOptions() {
    }

    /** The model file. */
    public static final ConfigOption<String> MODEL_PATH = key("icecache.model.path").stringType().noDefaultValue()
            .withDescription("Model file: GGUF (llama, qwen2 or qwen3; F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)"
                    + " or llama2.c .bin with its tokenizer.bin"
                    + " beside it. It must be readable at this path on every TaskManager. Required.");

    /** Context length override. */
    public static final ConfigOption<Integer> MODEL_CONTEXT = key("icecache.model.context").intType().defaultValue(0)
            .withDescription("Positions one document may reach (prompt plus generated tokens), overriding the"
                    + " model file's context length; 0 keeps the file's. A document whose prompt is longer is read in"
                    + " segments or rejected with an 'error' line, as 'icecache.summary.overflow' says; generation"
                    + " stops when it reaches this length.");

    /** Characters per chunk read from a document. */
    public static final ConfigOption<Integer> CHUNK_CHARS = key("icecache.chunk.chars").intType().defaultValue(4096)
            .withDescription("Most characters per document chunk (>= 16). Chunks end at a paragraph break, else a"
                    + " sentence end, else a space; the tokens do not depend on this value.");

    /** How long a document may wait for its next chunk. */
    public static final ConfigOption<Duration> DOCUMENT_IDLE_TIMEOUT = key("icecache.document.idle-timeout")
            .durationType().defaultValue(Duration.ZERO)
            .withDescription("How long a document that has received chunks but not its last one may go without a"
                    + " new chunk (processing time, e.g. '10 min'); then it is ended with the chunks that arrived,"
                    + " summarized, and its final output line's 'error' says 'ended after idle timeout of ...: no"
                    + " final chunk received'. Chunks of it arriving later are dropped. 0 waits forever (the"
                    + " default; right for files, which always end). Meant for streams such as Kafka where a"
                    + " producer may die mid-document. Not negative.");

    /** The prompt template. */
    public static final ConfigOption<String> PROMPT = key("icecache.prompt").stringType()
            .defaultValue("{document}\n\nSummary:")
            .withDescription("Plain text around each document. '{document}' marks where the document goes; text"
                    + " without it is an instruction placed after the document and a blank line. With"
                    + " 'icecache.prompt.chat' this text is the user message of the model's chat template.");

    /** Whether the prompt goes through the model's chat template. */
    public static final ConfigOption<Boolean> PROMPT_CHAT = key("icecache.prompt.chat").booleanType()
            .defaultValue(false)
            .withDescription("Put the prompt (with the document at '{document}') in a user message of the model's"
                    + " chat template (GGUF tokenizer.chat_template), with '" + "icecache.prompt.system" + "' before"
                    + " it when set, and add the assistant's turn: for instruction-tuned models. Only the template's"
                    + " own special tokens are control tokens; the document is tokenized as plain text, so text such"
                    + " as '<|eot_id|>' or '<|im_end|>' in a document cannot end the turn. Summaries stop at the"
                    + " end-of-turn token. Rolling summaries and documents read in segments get the same wrapping"
                    + " (each summary is an assistant turn). A model without a template, or one the template engine"
                    + " cannot render, is refused at start; then write the format out in '" + "icecache.prompt"
                    + "' instead.");

    /** The system message of a chat prompt. */
    public static final ConfigOption<String> PROMPT_SYSTEM = key("icecache.prompt.system").stringType()
            .noDefaultValue()
            .withDescription("System message before the user message when 'icecache.prompt.chat' is true (plain"
                    + " text); unset for none. Not allowed without 'icecache.prompt.chat'.");

    /** Tokens generated per document. */
    public static final ConfigOption<Integer> MAX_TOKENS = key("icecache.generate.max-tokens").intType()
            .defaultValue(128)
            .withDescription("Most tokens generated per document (>= 0); generation also stops at end-of-sequence."
                    + " With rolling summaries on, this is the final summary's limit; each rolling summary has"
                    + " 'icecache.summary.rolling-max-tokens'. A document read in segments has summaries of up to"
                    + " this many tokens for each segment (and reduce step) too.");

    /** Sampling temperature. */
    public static final ConfigOption<Float> TEMPERATURE = key("icecache.generate.temperature").floatType()
            .defaultValue(0f)
            .withDescription("Sampling temperature; 0 decodes greedily. With > 0, '" + "icecache.generate.top-p"
                    + "' and 'icecache.generate.seed' apply.");

    /** Nucleus mass. */
    public static final ConfigOption<Float> TOP_P = key("icecache.generate.top-p").floatType().defaultValue(0.9f)
            .withDescription("Nucleus sampling mass in (0, 1] when the temperature is > 0.");

    /** Sampling seed. */
    public static final ConfigOption<Long> SEED = key("icecache.generate.seed").longType().defaultValue(42L)
            .withDescription("Base seed of sampling; each document and step derive theirs from it, so output"
                    + " after a restore equals output without the failure.");

    /** Tokens per rolling summary. */
    public static final ConfigOption<Integer> ROLLING_MAX_TOKENS = key("icecache.summary.rolling-max-tokens").intType()
            .defaultValue(GenerationSettings.DEFAULT_ROLLING_MAX_TOKENS)
            .withDescription("Most tokens generated per rolling summary (>= 1; a summary also stops at"
                    + " end-of-sequence). Used only when 'icecache.summary.rolling-every' is > 0; the final summary"
                    + " keeps '" + MAX_TOKENS.key() + "'.");

    /** Document tokens between rolling summaries. */
    public static final ConfigOption<Integer> ROLLING_EVERY = key("icecache.summary.rolling-every").intType()
            .defaultValue(0)
            .withDescription("Tokens of a document between rolling summaries; 0 turns them off. When > 0 it must be"
                    + " at least " + GenerationSettings.MIN_ROLLING_EVERY + ": each rolling summary spends its"
                    + " instruction and up to '" + ROLLING_MAX_TOKENS.key() + "' positions of the context and a"
                    + " whole decode, which shorter intervals would spend on notes rather than on the document. At the"
                    + " first chunk boundary at or after each multiple of this many document tokens (template"
                    + " included), the prompt's instruction (the text after '{document}' in '" + PROMPT.key()
                    + "', which must then not be empty) is appended and a summary of the document so far is decoded"
                    + " and emitted as pieces of kind 'rolling' before the document goes on; chunks that arrive"
                    + " meanwhile wait in keyed state. The rolling summaries stay in the context: the model reads its"
                    + " own earlier notes before the rest of the document and the final summary, and they count"
                    + " against '" + MODEL_CONTEXT.key() + "'.");

    /** What happens to a document longer than the context. */
    public static final ConfigOption<String> OVERFLOW = key("icecache.summary.overflow").stringType()
            .defaultValue("refine")
            .withDescription("What the decoder does with a document that does not fit '" + MODEL_CONTEXT.key()
                    + "' with its instruction and summary: 'reject' ends it with one 'error' line and no summary;"
                    + " 'refine' reads it in segments that fit (each prefilled after the instruction and the running"
                    + " summary so far, the model writing the new running summary, the context restarting for the"
                    + " next segment with only that summary); 'map-reduce' summarizes each segment on its own, then"
                    + " the summaries, recursively until they fit one context. Intermediate summaries are emitted as"
                    + " pieces of kind 'segment' with 'up_to'. Segment summaries have up to '"
                    + "icecache.generate.max-tokens' tokens.");

    /** Most document tokens per segment. */
    public static final ConfigOption<Integer> SEGMENT_TOKENS = key("icecache.summary.segment-tokens").intType()
            .defaultValue(0)
            .withDescription("Most document tokens per segment when '" + "icecache.summary.overflow"
                    + "' reads a document in segments (>= 0). 0 derives it from the context, the instruction and"
                    + " 'icecache.generate.max-tokens': as many as fit beside the instruction (twice), the running"
                    + " summary and the next summary. A larger value is capped at that. Segments end at chunk"
                    + " boundaries; a chunk longer than a whole segment is split.");

    /** Tokens per decode slice. */
    public static final ConfigOption<Integer> SLICE_TOKENS = key("icecache.decode.slice-tokens").intType()
            .defaultValue(16)
            .withDescription("Tokens generated per timer callback (>= 1); each slice emits one text piece and lets"
                    + " checkpoints through between slices.");

    /** The cache policy. */
    public static final ConfigOption<Policy> POLICY = key("icecache.cache.policy").enumType(Policy.class)
            .defaultValue(Policy.ICECACHE)
            .withDescription("KV-cache page selection: FULL attends to every position; ICECACHE is the paper's"
                    + " DCI-tree selection; STREAMING, QUEST, ORACLE, ICECACHE_REUSE are the baselines/variants."
                    + " All but FULL keep a bounded resident pool of '" + "icecache.budget.tokens" + "' per stream.");

    /** Resident tokens per layer and KV head. */
    public static final ConfigOption<Integer> BUDGET_TOKENS = key("icecache.budget.tokens").intType()
            .defaultValue(256)
            .withDescription("Resident tokens per (sparse layer, KV head): a multiple of " + CacheConfig.PAGE_ROWS
                    + ", at least 64. Ignored by FULL.");

    /** Dense layers. */
    public static final ConfigOption<Integer> DENSE_LAYERS = key("icecache.cache.dense-layers").intType()
            .defaultValue(CacheConfig.DEFAULT_DENSE_LAYERS)
            .withDescription("Leading layers that attend to every position whatever the policy (>= 0).");

    /** Live documents per decoder subtask. */
    public static final ConfigOption<Integer> WORKING_SET_DOCUMENTS = key("icecache.working-set.documents").intType()
            .defaultValue(8)
            .withDescription("Most documents per decoder subtask kept live in memory (>= 1), within"
                    + " 'icecache.memory.budget', which is the bound that matters for long documents. Others live only"
                    + " in keyed state and are rebuilt on their next element.");

    /** Heap bytes the live documents of one decoder subtask may hold. */
    public static final ConfigOption<MemorySize> MEMORY_BUDGET = key("icecache.memory.budget").memoryType()
            .defaultValue(MemorySize.ZERO)
            .withDescription("Heap the live documents of one decoder subtask may hold (their index trees, dense-layer"
                    + " rows, resident page pool and chunk buffers), e.g. '2 gb'. 0 (the default) derives it: half the"
                    + " TaskManager's JVM heap divided by its task slots. Documents beyond it are unloaded to keyed"
                    + " state (idle ones first) and restored on their next element; a decoding document keeps its"
                    + " place for at least " + DocumentAdmission.RESIDENCY_FACTOR + " times its restore time, so"
                    + " restores stay a small share of the decoder's time. A document that alone needs more is"
                    + " rejected with an 'error' line naming this option. Per token a live IceCache document needs"
                    + " about head_dim + 48 bytes per (sparse layer, KV head) for its index (int8 keys and node metadata) plus"
                    + " 2 x head_dim x 2 bytes per (dense layer, KV head) with BF16 rows (4 with F32);"
                    + " 'bin/icecache inspect-model' prints the estimate for a model. What the live documents leave"
                    + " free also holds a prefill chunk's page writes until the chunk ends (past it they go straight"
                    + " to keyed state): a prefill chunk rewrites most KV pages, so a budget with room for them"
                    + " (about 4 x head_dim bytes per cached position per (sparse layer, KV head) with BF16 pages) keeps"
                    + " prefill through RocksDB near the engine's own speed.");

    /** Whether the decoder may run on a GPU. */
    public static final ConfigOption<Boolean> GPU_ENABLED = key("icecache.gpu.enabled").booleanType()
            .defaultValue(true)
            .withDescription("Run the model on a GPU when one is found: the device Flink's 'gpu' external resource"
                    + " assigns (device 0 when none is declared), if the job jar's gpu backend can open it (CUDA >= 12"
                    + " driver r525+, compute capability >= 8.0). Otherwise, or with false, the CPU runs with the same"
                    + " results. Each decoder subtask logs the backend it chose and why. A device error during decoding"
                    + " fails the task once with a WARN naming the error; the restart continues on the CPU from the last"
                    + " checkpoint.");

    /** Bytes of the page region a GPU shares between the decoder subtasks placed on it. */
    public static final ConfigOption<MemorySize> GPU_REGION_SIZE = key("icecache.gpu.region.size").memoryType()
            .defaultValue(MemorySize.ZERO)
            .withDescription("Device memory of the one page region a GPU shares between the documents of every"
                    + " decoder subtask placed on it (their resident pages, current chunk and dense layers), e.g."
                    + " '8 gb'. 0 (the default) takes " + DeviceRegionSizes.DEFAULT_REGION_SHARE_PERCENT + "% of the"
                    + " device's memory. A document that finds no room attends on the host. Larger than the device"
                    + " fails the decoder's start naming this option. The first decoder subtask on a device fixes it"
                    + " for the TaskManager.");

    /** The most one document may lease from the GPU's page region. */
    public static final ConfigOption<MemorySize> GPU_DOCUMENT_SIZE = key("icecache.gpu.region.document-size")
            .memoryType().defaultValue(MemorySize.ZERO)
            .withDescription("The most device memory one document may lease from the GPU's page region"
                    + " ('icecache.gpu.region.size'); 0 (the default) lets one document take the whole region. Must"
                    + " not exceed the region.");

    /** Whether attention runs on the GPU. */
    public static final ConfigOption<Boolean> GPU_RESIDENT = key("icecache.gpu.resident").booleanType()
            .defaultValue(true)
            .withDescription("With a GPU, keep each document's resident pages on the device and attend there"
                    + " (the decode step crosses to the host only for the index search); false keeps attention and"
                    + " pages on the host and runs only the dense layers on the device.");

    /** Page format in state. */
    public static final ConfigOption<PageFormat> PAGE_FORMAT = key("icecache.page.format").enumType(PageFormat.class)
            .defaultValue(CacheConfig.DEFAULT_PAGE_FORMAT)
            .withDescription("How KV rows are kept in every tier (dense rows, pages in state, checkpoints): BF16"
                    + " rounds to bfloat16 and stores 2 bytes a value, F32 is exact and stores 4.");
}
