package dev.icecache.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import dev.icecache.job.progress.JobProgressReporter;
import dev.icecache.job.progress.ProgressMode;
import dev.icecache.job.resume.CheckpointOperators;
import dev.icecache.job.resume.ResumePoint;
import dev.icecache.job.resume.RunSettings;
import dev.icecache.job.resume.SummarizeRun;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.operators.config.DecoderSettings;
import dev.icecache.operators.config.IceCacheOptions;
import dev.icecache.operators.config.InvalidOptionException;
import dev.icecache.operators.document.DocumentChunk;
import dev.icecache.operators.tokenize.PromptTokens;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.TimeUtils;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code icecache summarize}: the Flink summarization job over a directory or file of
 * documents, or over a Kafka topic of chunk records ({@code icecache produce} writes them). Runs on an embedded mini-cluster under {@code bin/icecache} (RocksDB state and
 * checkpoints in a temporary directory unless {@code --checkpoint-dir} is given); the same jar
 * submits to a cluster with {@code flink run icecache-job.jar summarize ...}.
 */
@Command(name = "summarize", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run the summarization job: one generation per document, JSON lines "
                + "{doc, seq, text, final, stats} (kind and up_to with --rolling-every or when a document is read in"
                + " segments) to --output (exactly-once"
                + " files) or stdout.",
        footer = {"", "Examples:",
            "  icecache summarize --input examples/documents \\",
            "      --model ../shared/models/stories260K/stories260Ktok512.gguf --context 2048 --max-tokens 64",
            "  icecache summarize --kafka-bootstrap localhost:9092 --kafka-topic docs \\",
            "      --kafka-bounded --model model.gguf --output /tmp/summaries",
            "  icecache summarize --input examples/texts --rolling-every 512 \\",
            "      --model ../shared/models/iceeval-1m/iceeval-1m.gguf --context 4096 --max-tokens 64",
            "  icecache summarize --input examples/books/persuasion.txt --overflow map-reduce --chunk-chars 1024 \\",
            "      --model ../shared/models/iceeval-1m/iceeval-1m.gguf --context 1024 --max-tokens 32",
            "  icecache summarize --input report.txt --model Qwen3-1.7B-Q4_K_M.gguf --chat \\",
            "      --system \"You summarize documents.\" --prompt \"Summarize this:\\n\\n{document}\"",
            "  icecache summarize --input examples/books --model model.gguf --context 131072 --budget 512 \\",
            "      --prompt \"{document}\\n\\nTL;DR:\" --output /tmp/summaries --checkpoint-dir /tmp/cp",
            "  (after a crash or Ctrl-C: the same command with --resume)",
            "  flink run job/target/icecache-job-0.1.0-SNAPSHOT.jar summarize --input /data/docs \\",
            "      --model /models/model.gguf --context 8192 --output /data/summaries",
            "", "Exit codes: 0 done, 1 bad input or job failure, 2 bad option, 130 stopped by Ctrl-C."})
public final class SummarizeCommand implements Callable<Integer> {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Option(names = "--input", paramLabel = "DIR|FILE",
            description = "A document file, or a directory whose files are documents (id = file name); this or"
                    + " --kafka-bootstrap is required (default: none).")
    Path input;

    @Option(names = "--kafka-bootstrap", paramLabel = "HOST:PORT[,...]",
            description = "Read documents from Kafka instead of --input: the bootstrap servers (default: none).")
    String kafkaBootstrap;

    @Option(names = "--kafka-topic", paramLabel = "TOPIC",
            description = "The topic of chunk records (key = document id, value = {doc, seq, text, last} JSON, as"
                    + " 'icecache produce' writes); required with --kafka-bootstrap (default: none).")
    String kafkaTopic;

    @Option(names = "--kafka-group", defaultValue = "icecache-summarize", paramLabel = "GROUP",
            description = "Consumer group; its offsets are committed on each checkpoint, and a new run starts"
                    + " from them (earliest when it has none) (default: ${DEFAULT-VALUE}).")
    String kafkaGroup;

    @Option(names = "--kafka-bounded",
            description = "Stop at the latest offsets seen at start (drain the topic, then end) instead of reading"
                    + " forever (default: false).")
    boolean kafkaBounded;

    @Option(names = "--model", required = true, paramLabel = "FILE",
            description = "GGUF model (or llama2.c .bin with tokenizer.bin beside it), readable on every TaskManager; required.")
    Path model;

    @Option(names = "--output", paramLabel = "DIR",
            description = "Directory for exactly-once part-*.jsonl files (default: print the lines to stdout).")
    Path output;

    @Option(names = "--context", defaultValue = "0", paramLabel = "N",
            description = "Positions a document may reach, prompt plus generation; 0 = the model file's (default: ${DEFAULT-VALUE}).")
    int context;

    @Option(names = "--prompt", paramLabel = "TEXT",
            description = "Prompt template; '{document}' marks the document, else TEXT follows it after a blank line"
                    + " (default: \"{document}\\n\\nSummary:\").")
    String prompt;

    @Option(names = "--chat",
            description = "Put the prompt (with the document) in a user message of the model's chat template (GGUF"
                    + " tokenizer.chat_template) and add the assistant's turn, for instruction-tuned models; the"
                    + " document stays plain text (icecache.prompt.chat) (default: off, the prompt is raw text).")
    Boolean chat;

    @Option(names = "--system", paramLabel = "TEXT",
            description = "System message before the user message; needs --chat (icecache.prompt.system) (default: none).")
    String system;

    @Option(names = "--budget", paramLabel = "TOKENS",
            description = "Resident tokens per (sparse layer, KV head), a multiple of 16 (default: 256).")
    Integer budget;

    @Option(names = "--policy", paramLabel = "NAME",
            description = "KV-cache policy: ${COMPLETION-CANDIDATES} (default: ICECACHE).")
    Policy policy;

    @Option(names = "--max-tokens", paramLabel = "N", description = "Most tokens generated per document (default: 128).")
    Integer maxTokens;

    @Option(names = "--rolling-every", paramLabel = "TOKENS",
            description = "A rolling summary every TOKENS document tokens while the document streams in, 0 = off, else"
                    + " >= 64; its pieces have \"kind\":\"rolling\" and stay in the model's context; their length is"
                    + " icecache.summary.rolling-max-tokens (default: 0).")
    Integer rollingEvery;

    @Option(names = "--overflow", paramLabel = "reject|refine|map-reduce",
            description = "A document that does not fit --context with its instruction and summary: reject it (an"
                    + " error line), refine (read it in segments, each after the running summary so far) or map-reduce"
                    + " (summarize each segment, then the summaries); intermediate summaries are pieces of"
                    + " \"kind\":\"segment\" (default: refine).")
    String overflow;

    @Option(names = "--segment-tokens", paramLabel = "N",
            description = "Most document tokens per segment; 0 = as many as fit beside the instruction and summaries"
                    + " (default: 0).")
    Integer segmentTokens;

    @Option(names = "--temperature", paramLabel = "T", description = "Sampling temperature; 0 = greedy (default: 0.0).")
    Float temperature;

    @Option(names = "--top-p", paramLabel = "P", description = "Nucleus mass in (0, 1] when sampling (default: 0.9).")
    Float topP;

    @Option(names = "--seed", paramLabel = "S", description = "Base sampling seed (default: 42).")
    Long seed;

    @Option(names = "--chunk-chars", paramLabel = "N", description = "Most characters per document chunk (default: 4096).")
    Integer chunkChars;

    @Option(names = "--memory-budget", paramLabel = "SIZE", description = "Heap the live documents of one decoder"
            + " subtask may hold, e.g. 1200m or 2g (icecache.memory.budget; default: half the heap over the task"
            + " slots). Raise it, with ICECACHE_HEAP, for a document rejected as needing more.")
    String memoryBudget;

    @Option(names = "--parallelism", paramLabel = "N", description = "Job parallelism (default: run embedded with"
            + " --input, one subtask per document up to the cores, so that one long document gets the whole memory"
            + " budget; otherwise Flink's).")
    Integer parallelism;

    @Option(names = "--checkpoint-dir", paramLabel = "DIR",
            description = "Checkpoint directory; checkpoints are kept when the run stops, for --resume, and Ctrl-C"
                    + " stops an embedded run at a checkpoint taken at once (reading Kafka without --kafka-bounded:"
                    + " then at a savepoint under DIR/savepoints) (default: a temporary one embedded; the cluster's"
                    + " under flink run).")
    Path checkpointDir;

    @Option(names = "--resume", arity = "0..1", fallbackValue = "", paramLabel = "DIR",
            description = "Continue a run that stopped (killed, failed, Ctrl-C) from the newest complete checkpoint or"
                    + " savepoint under --checkpoint-dir, or from the savepoint or chk-N directory DIR; the other"
                    + " options must be the first run's (default: start afresh).")
    String resume;

    @Option(names = "--checkpoint-interval", defaultValue = "10s", paramLabel = "DURATION",
            description = "Checkpoint interval, e.g. 200ms or 10s (default: ${DEFAULT-VALUE}).")
    String checkpointInterval;

    @Option(names = "--stop-timeout", defaultValue = "60s", paramLabel = "DURATION",
            description = "On Ctrl-C with --checkpoint-dir: how long the checkpoint, then the savepoint (unbounded"
                    + " Kafka input), taken to stop may each take; without a savepoint in time the run stops at that"
                    + " checkpoint (default: ${DEFAULT-VALUE}).")
    String stopTimeout;

    @Option(names = "--state-backend", defaultValue = "rocksdb", paramLabel = "rocksdb|hashmap",
            description = "Keyed state backend (default: ${DEFAULT-VALUE}).")
    String stateBackend;

    @Option(names = "--conf", paramLabel = "KEY=VALUE",
            description = "Any further Flink or icecache.* option, repeatable, e.g. --conf icecache.decode.slice-tokens=8"
                    + " (default: none; docs/configuration.md lists the icecache.* keys).")
    Map<String, String> extra = new LinkedHashMap<>();

    @Option(names = "--progress", defaultValue = "AUTO", paramLabel = "MODE",
            description = "Job progress (tokens prefilled and generated, rates, documents done) on stderr when run"
                    + " embedded: ${COMPLETION-CANDIDATES}; AUTO draws a line on a terminal, else logs every"
                    + " 10 s (default: ${DEFAULT-VALUE}).")
    ProgressMode progress = ProgressMode.AUTO;

    @Override
    public Integer call() throws Exception {
        checkOneSource();
        if (input != null && !Files.exists(input)) {
            throw new IllegalArgumentException("--input " + input + " does not exist; give a document file or a directory");
        }
        if (!Files.isRegularFile(model)) {
            throw new IllegalArgumentException("--model " + model + " is not a file; give a GGUF or llama2.c model");
        }
        if (!stateBackend.equals("rocksdb") && !stateBackend.equals("hashmap")) {
            throw new InvalidOptionException("--state-backend", stateBackend, "rocksdb or hashmap");
        }
        Duration stopWithin = stopTimeout();
        boolean embedded = embedded();
        Configuration config = toConfiguration(embedded);
        DecoderSettings decoder = DecoderSettings.from(config); // every icecache.* option checked before Flink starts
        if (decoder.prompt().chat()) {
            checkChatTemplate(decoder);
        }
        RunSettings settings = RunSettings.of(config, model, input != null ? "files " + input.toAbsolutePath()
                : "kafka " + kafkaBootstrap + " " + kafkaTopic + " " + kafkaGroup);
        ResumePoint from = resume == null ? null
                : ResumePoint.find(resume.isEmpty() ? null : Path.of(resume), checkpointDir);
        if (from != null) {
            RunSettings.keptWith(from).ifPresent(kept -> settings.requireSameAs(kept, from));
            config.set(StateRecoveryOptions.SAVEPOINT_PATH, from.pointer());
        }
        Sink<String> sink = output == null ? new StdoutLineSink() : SummarizeJob.fileSink(output);
        Source<DocumentChunk, ?, ?> source = input != null
                ? SummarizeJob.fileSource(input, config.get(IceCacheOptions.CHUNK_CHARS))
                : SummarizeJob.kafkaSource(kafkaBootstrap, kafkaTopic, kafkaGroup, kafkaBounded);
        SummarizeJob job = new SummarizeJob(source, sink, config);
        if (from != null) {
            CheckpointOperators.requireJob(from, job.operatorIds(), SummarizeJob.decoderOperatorId(),
                    SummarizeJob.DECODER_UID);
            spec.commandLine().getErr().println("icecache: resuming from " + from.dir());
        }
        return SummarizeRun.run(job, embedded, checkpointDir, stopWithin,
                kafkaBootstrap != null && !kafkaBounded, settings, recoveryPath(config),
                spec.commandLine().getErr());
    }

    /**
     * The documents the file source will read under {@code input}, counted up to {@code limit}:
     * 1 for a file; for a directory its files at any depth, skipping names that start with '.' or
     * '_' as Flink's file source does. {@code limit} when the input cannot be read (the run reports
     * that itself).
     */
    static int documentsUpTo(Path input, int limit) {
        if (Files.isRegularFile(input)) {
            return 1;
        }
        try (Stream<Path> paths = Files.walk(input)) {
            return (int) paths.filter(p -> p.equals(input) || readBySource(input.relativize(p)))
                    .filter(Files::isRegularFile)
                    .limit(limit)
                    .count();
        } catch (IOException | UncheckedIOException e) {
            return limit;
        }
    }

    /** Whether no part of a path below the input starts with '.' or '_' (Flink's default file filter). */
    private static boolean readBySource(Path relative) {
        for (Path part : relative) {
            String name = part.toString();
            if (name.startsWith(".") || name.startsWith("_")) {
                return false;
            }
        }
        return true;
    }

    private Duration stopTimeout() {
        try {
            Duration d = TimeUtils.parseDuration(stopTimeout);
            if (!d.isNegative() && !d.isZero()) {
                return d;
            }
        } catch (IllegalArgumentException e) {
            // named below
        }
        throw new InvalidOptionException("--stop-timeout", stopTimeout, "a positive duration such as 60s or 2min");
    }

    /** Renders the model's chat template once, so a model without one (or one we cannot render) fails before Flink starts. */
    private static void checkChatTemplate(DecoderSettings decoder) throws IOException {
        try (LlamaModel llama = LlamaModel.load(Path.of(decoder.modelPath()),
                new LoadOptions(null, decoder.contextLength()))) {
            PromptTokens.of(decoder.prompt(), llama);
        }
    }

    /** The checkpoint or savepoint this run restores: --resume's, or flink run -s's. */
    private static String recoveryPath(Configuration config) {
        return config.getOptional(StateRecoveryOptions.SAVEPOINT_PATH).orElseGet(() ->
                StreamExecutionEnvironment.getExecutionEnvironment().getConfiguration()
                        .getOptional(StateRecoveryOptions.SAVEPOINT_PATH).orElse(null));
    }

    /** Exactly one of --input and --kafka-bootstrap, and the Kafka options only with Kafka. */
    void checkOneSource() {
        boolean kafka = kafkaBootstrap != null;
        if (input != null && kafka) {
            throw new InvalidOptionException("--kafka-bootstrap", kafkaBootstrap,
                    "only without --input; read either files (--input) or Kafka (--kafka-bootstrap), not both");
        }
        if (!kafka && (kafkaTopic != null || kafkaBounded)) {
            throw new InvalidOptionException("--kafka-bootstrap", null,
                    "HOST:PORT when --kafka-topic or --kafka-bounded is given");
        }
        if (input == null && !kafka) {
            throw new InvalidOptionException("--input", null,
                    "a document file or directory, or --kafka-bootstrap HOST:PORT with --kafka-topic TOPIC");
        }
        if (kafka && (kafkaTopic == null || kafkaTopic.isBlank())) {
            throw new InvalidOptionException("--kafka-topic", kafkaTopic, "the topic to read, with --kafka-bootstrap");
        }
    }

    /** True under {@code java}/{@code bin/icecache} (embedded mini-cluster), false under {@code flink run}. */
    private static boolean embedded() {
        return StreamExecutionEnvironment.getExecutionEnvironment() instanceof LocalStreamEnvironment;
    }

    /** The job configuration: Flink keys for state and checkpoints, then every icecache.* option given. */
    Configuration toConfiguration(boolean embedded) throws IOException {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("state.backend.type", stateBackend);
        c.put("execution.checkpointing.interval", checkpointInterval);
        c.put("execution.checkpointing.incremental", "true");
        // NOTE: a prefill chunk reads back every KV page it could not hold on the heap: without bloom
        // filters each read probes every SST file that may hold the key, and BF16 pages do not
        // compress, so compressing them only costs CPU (issue 13: 0.85x the engine alone at 16k with
        // both, against more than 6 minutes for one chunk without)
        c.put("state.backend.rocksdb.use-bloom-filter", "true");
        c.put("state.backend.rocksdb.compression.per.level", "NO_COMPRESSION");
        // NOTE: prefill is slow per element, so aligned barriers would wait behind every buffered chunk
        c.put("execution.checkpointing.unaligned.enabled", "true");
        // NOTE: checkpoints may complete while a restored decoder replays its in-flight input, so a
        // second failure soon after a first does not restore the same checkpoint again
        c.put("execution.checkpointing.during-recovery.enabled", "true");
        c.put("execution.checkpointing.unaligned.recover-output-on-downstream.enabled", "true");
        if (embedded) {
            // NOTE: a savepoint is always aligned, so its barrier waits behind every chunk buffered before the
            // decoder; debloating keeps about a second of the decoder's input in flight (a chunk or two), so
            // that the savepoint Ctrl-C takes completes soon after the chunk being prefilled
            c.put("taskmanager.network.memory.buffer-debloat.enabled", "true");
        }
        if (checkpointDir != null) {
            c.put("execution.checkpointing.dir", checkpointDir.toAbsolutePath().toUri().toString());
            // NOTE: kept when the job fails or is cancelled too, so that --resume finds them
            c.put("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        } else if (embedded) {
            c.put("execution.checkpointing.dir", Files.createTempDirectory("icecache-checkpoints").toUri().toString());
        }
        if (parallelism != null) {
            c.put("parallelism.default", parallelism.toString());
        } else if (embedded && input != null) {
            int cores = Runtime.getRuntime().availableProcessors(); // Flink's embedded default
            int documents = documentsUpTo(input, cores);
            if (documents < cores) {
                // NOTE: each task slot gets an equal share of the memory budget, and a document is
                // one subtask's: one document on two slots left half the budget to an idle one, and
                // its page writes went through to RocksDB (issue 13: 0.80x the engine at 16k, against
                // 0.91x with --parallelism 1)
                c.put("parallelism.default", Integer.toString(Math.max(1, documents)));
            }
        }
        c.put(IceCacheOptions.MODEL_PATH.key(), model.toAbsolutePath().toString());
        c.put(IceCacheOptions.MODEL_CONTEXT.key(), Integer.toString(context));
        putIf(c, IceCacheOptions.PROMPT.key(), prompt);
        putIf(c, IceCacheOptions.PROMPT_CHAT.key(), chat);
        putIf(c, IceCacheOptions.PROMPT_SYSTEM.key(), system);
        putIf(c, IceCacheOptions.BUDGET_TOKENS.key(), budget);
        putIf(c, IceCacheOptions.POLICY.key(), policy);
        putIf(c, IceCacheOptions.MAX_TOKENS.key(), maxTokens);
        putIf(c, IceCacheOptions.ROLLING_EVERY.key(), rollingEvery);
        putIf(c, IceCacheOptions.OVERFLOW.key(), overflow);
        putIf(c, IceCacheOptions.SEGMENT_TOKENS.key(), segmentTokens);
        putIf(c, IceCacheOptions.TEMPERATURE.key(), temperature);
        putIf(c, IceCacheOptions.TOP_P.key(), topP);
        putIf(c, IceCacheOptions.SEED.key(), seed);
        putIf(c, IceCacheOptions.CHUNK_CHARS.key(), chunkChars);
        putIf(c, IceCacheOptions.MEMORY_BUDGET.key(), memoryBudget);
        if (embedded && progress != ProgressMode.OFF) {
            boolean bar = progress.drawsBar();
            c.putAll(JobProgressReporter.configure(bar, bar ? "1 s" : "10 s"));
        }
        c.putAll(extra);
        return Configuration.fromMap(c);
    }

    private static void putIf(Map<String, String> c, String key, Object value) {
        if (value != null) {
            c.put(key, value.toString());
        }
    }
}
