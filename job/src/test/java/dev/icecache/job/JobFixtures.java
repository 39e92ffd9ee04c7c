package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.operators.state.DocumentCache;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Sampler;
import dev.icecache.model.Session;
import dev.icecache.model.TestModels;
import dev.icecache.operators.tokenize.PromptTemplate;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

/** Documents, configuration, output reading and the engine-alone reference for the job tests. */
final class JobFixtures {

    static final String PROMPT = "{document}\n\nSummary:";
    static final int CONTEXT = 4096;
    static final int MAX_TOKENS = 48;
    static final int BUDGET_TOKENS = 64;

    private static final ObjectMapper JSON = new ObjectMapper();

    private JobFixtures() {
    }

    /** stories260K, or a skip (a failure when CI=true) when the shared models are missing. */
    static Path model() {
        return TestModels.require("stories260K/stories260Ktok512.gguf");
    }

    /** Three documents of different lengths (about 1.4, 3 and 6.1 KB) from the examples, in {@code dir}. */
    static Path writeDocuments(Path dir) throws IOException {
        Path examples = Path.of(System.getProperty("icecache.examples.dir", "../examples/documents"));
        String garden = Files.readString(examples.resolve("garden.txt"));
        String lighthouse = Files.readString(examples.resolve("lighthouse.txt"));
        String clockmaker = Files.readString(examples.resolve("clockmaker.txt"));
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("short.txt"), garden);
        Files.writeString(dir.resolve("medium.txt"), lighthouse + "\n" + lighthouse);
        Files.writeString(dir.resolve("long.txt"), (clockmaker + "\n").repeat(4));
        return dir;
    }

    /** One document, long.txt: the clockmaker example four times (about 3,250 tokens), in {@code dir}. */
    static Path writeLongDocument(Path dir) throws IOException {
        String clockmaker = Files.readString(Path.of(System.getProperty("icecache.examples.dir",
                "../examples/documents")).resolve("clockmaker.txt"));
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("long.txt"), (clockmaker + "\n").repeat(4));
        return dir;
    }

    /** RocksDB, incremental unaligned checkpoints every 200 ms, restarts on, parallelism 2, IceCache at 64 tokens. */
    static Configuration config(Path checkpoints) {
        Configuration c = Configuration.fromMap(Map.of(
                "state.backend.type", "rocksdb",
                "execution.checkpointing.dir", checkpoints.toUri().toString(),
                "execution.checkpointing.interval", "200 ms",
                "execution.checkpointing.incremental", "true",
                "execution.checkpointing.unaligned.enabled", "true",
                "restart-strategy.type", "fixed-delay",
                "restart-strategy.fixed-delay.attempts", "4",
                "restart-strategy.fixed-delay.delay", "200 ms",
                "parallelism.default", "2"));
        c.setString("icecache.model.path", model().toString());
        c.setString("icecache.model.context", Integer.toString(CONTEXT));
        c.setString("icecache.prompt", PROMPT);
        c.setString("icecache.generate.max-tokens", Integer.toString(MAX_TOKENS));
        c.setString("icecache.decode.slice-tokens", "2");
        c.setString("icecache.chunk.chars", "256");
        c.setString("icecache.cache.policy", "ICECACHE");
        c.setString("icecache.budget.tokens", Integer.toString(BUDGET_TOKENS));
        return c;
    }

    /** One output line. */
    record Piece(String doc, int seq, String text, boolean last, long tokensIn, long tokensOut) {
    }

    /** Every committed line under {@code outputDir} (hidden in-progress files excluded), per document, by seq. */
    static Map<String, List<Piece>> readOutput(Path outputDir) throws IOException {
        Map<String, List<Piece>> byDoc = new TreeMap<>();
        readLines(outputDir).forEach((doc, lines) -> byDoc.put(doc, lines.stream().map(l -> new Piece(doc, l.seq(),
                l.text(), l.last(), l.tokensIn(), l.tokensOut())).toList()));
        return byDoc;
    }

    /**
     * One output line with every field that must survive a failure: kind and up_to ("" and 0
     * when absent), the statistics of the last piece (0 on others), the error (or null).
     */
    record OutputLine(int seq, String text, boolean last, String kind, long upTo, long tokensIn, long tokensOut,
                      int segments, String error) {
    }

    /** Every committed line under {@code outputDir}, per document, by seq, with all their fields. */
    static Map<String, List<OutputLine>> readLines(Path outputDir) throws IOException {
        Map<String, List<OutputLine>> byDoc = new TreeMap<>();
        try (Stream<Path> files = Files.walk(outputDir)) {
            for (Path f : files.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
                for (String text : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                    JsonNode n = JSON.readTree(text);
                    JsonNode stats = n.get("stats");
                    OutputLine l = new OutputLine(n.get("seq").asInt(), n.get("text").asText(),
                            n.get("final").asBoolean(), n.has("kind") ? n.get("kind").asText() : "",
                            n.has("up_to") ? n.get("up_to").asLong() : 0,
                            stats == null ? 0 : stats.get("tokens_in").asLong(),
                            stats == null ? 0 : stats.get("tokens_out").asLong(),
                            stats == null || !stats.has("segments") ? 0 : stats.get("segments").asInt(),
                            n.has("error") ? n.get("error").asText() : null);
                    byDoc.computeIfAbsent(n.get("doc").asText(), d -> new ArrayList<>()).add(l);
                }
            }
        }
        byDoc.values().forEach(l -> l.sort((a, b) -> Integer.compare(a.seq(), b.seq())));
        return byDoc;
    }

    /** Checks pieces are 0..n-1, once each, only the last final; returns the joined text. */
    static String text(List<Piece> pieces) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < pieces.size(); i++) {
            assertEquals(i, pieces.get(i).seq(), "piece seq gap or duplicate in " + pieces.get(i).doc());
            assertEquals(i == pieces.size() - 1, pieces.get(i).last(), "final flag of " + pieces.get(i).doc());
            sb.append(pieces.get(i).text());
        }
        return sb.toString();
    }

    /**
     * The IceCache settings the job's decoder runs with ({@code DecoderSettings.cacheConfig()}: the
     * tree parameters its saved state was written with), for engine-alone references.
     */
    static CacheConfig decoderCacheConfig(int budgetTokens) {
        return CacheConfig.of(Policy.ICECACHE, budgetTokens).withTreeParams(DciParams.bestKeyDefaults());
    }

    /**
     * What the engine alone generates for a document with the same policy and budget: BOS +
     * tokenize(template(doc)) in one prefill over a PagedKvCache on an in-memory store, then greedy.
     */
    static String engineAlone(Path document) {
        return engineAlone(document, MAX_TOKENS);
    }

    /** {@link #engineAlone(Path)} generating at most {@code maxTokens}. */
    static String engineAlone(Path document, int maxTokens) {
        String text = engineAlone(model(), CONTEXT, BUDGET_TOKENS, maxTokens, document);
        assertTrue(!text.isEmpty(), "the engine generated nothing for " + document);
        return text;
    }

    /** The same for another model, context, IceCache budget and token limit. */
    static String engineAlone(Path modelFile, int context, int budgetTokens, int maxTokens, Path document) {
        try {
            LlamaModel model = LlamaModel.load(modelFile, new LoadOptions(null, context));
            String prompt = PromptTemplate.parse(PROMPT).apply(Files.readString(document));
            int[] tokens = model.tokenizer().encode(prompt);
            int[] all = new int[tokens.length + 1];
            all[0] = model.tokenizer().bos();
            System.arraycopy(tokens, 0, all, 1, tokens.length);
            CacheConfig config = decoderCacheConfig(budgetTokens);
            PagedKvCache cache = new PagedKvCache(model.cacheShape(), config,
                    new InMemoryPageStore(PageLayout.of(model.config().headDim()), config.pageFormat()),
                    DocumentCache.projection(model.config().headDim()));
            Session s = model.newSession(cache);
            float[] logits = s.prefill(all, 0, all.length, true);
            Sampler greedy = new Sampler(0f, 1f, 0);
            int[] out = new int[maxTokens];
            int n = 0;
            for (int i = 0; i < maxTokens; i++) {
                int t = greedy.sample(logits);
                if (t == model.tokenizer().eos()) {
                    break;
                }
                out[n++] = t;
                if (i + 1 < maxTokens) {
                    logits = s.step(t);
                }
            }
            return model.tokenizer().decode(java.util.Arrays.copyOf(out, n));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Stops a job with a canonical savepoint. A subtask still in {@code open()} (loading the
     * model) cannot take the barrier and Flink aborts the savepoint ("not all required tasks
     * are currently running"): that answer is retried, a bounded number of times, each try
     * being a round trip to the JobManager; any other failure is thrown.
     */
    static String stopWithSavepoint(JobClient job, Path dir) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return job.stopWithSavepoint(false, dir.toUri().toString(), SavepointFormatType.CANONICAL)
                        .get(2, java.util.concurrent.TimeUnit.MINUTES);
            } catch (java.util.concurrent.ExecutionException e) {
                if (attempt >= 500 || !causeSays(e, "not all required tasks are currently running")) {
                    throw e;
                }
                job.getJobStatus().get(); // one more round trip before the next try
            }
        }
    }

    private static boolean causeSays(Throwable t, String text) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getMessage() != null && c.getMessage().toLowerCase(java.util.Locale.ROOT).contains(text)) {
                return true;
            }
        }
        return false;
    }
}
