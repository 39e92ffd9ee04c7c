package dev.icecache.job;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.operators.state.DocumentCache;
import dev.icecache.operators.tokenize.PromptTemplate;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CheckpointStatsStatus;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.util.TestStreamEnvironment;

/**
 * Prefill throughput through the Flink job against the engine alone on the same document,
 * checkpoint size and duration, and restore time, on stories260K with IceCache at a 64-token
 * budget. Prints one line per figure. A test-scope main (needs the test classpath):
 *
 * <pre>
 *   mvn -o -q -pl job -am test-compile
 *   mvn -o -q -pl job dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/tmp/cp.txt
 *   java --add-modules jdk.incubator.vector -cp job/target/test-classes:job/target/classes:$(cat /tmp/cp.txt) \
 *       -Dicecache.models.dir=../shared/models dev.icecache.job.JobBenchmark [runs]
 * </pre>
 */
public final class JobBenchmark {

    private static final Pattern FINISHED = Pattern.compile("tokens_in=(\\d+).* seconds=([0-9.E-]+)");
    private static final Pattern RESTORED = Pattern.compile("position=(\\d+).* restore_ms=([0-9.E-]+)");

    private JobBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Path work = Files.createTempDirectory("icecache-bench");
        Path docs = JobFixtures.writeDocuments(work.resolve("all"));
        Path one = Files.createDirectories(work.resolve("long"));
        Files.copy(docs.resolve("long.txt"), one.resolve("long.txt"));
        double engine = engineAlonePrefill(one.resolve("long.txt"), runs);

        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(2).build());
        cluster.start();
        TestStreamEnvironment.setAsContext(cluster, 1);
        try {
            double[] job = new double[runs];
            List<AbstractCheckpointStats> checkpoints = new ArrayList<>();
            for (int r = 0; r < runs; r++) {
                job[r] = jobPrefill(cluster, one, work.resolve("run" + r), checkpoints);
            }
            Arrays.sort(job);
            double median = job[runs / 2];
            System.out.printf("prefill tokens/s, engine alone (median of %d): %.0f%n", runs, engine);
            System.out.printf("prefill tokens/s, through the job (median of %d): %.0f  ratio job/engine = %.2f%n",
                    runs, median, median / engine);
            reportCheckpoints(checkpoints);
            restore(docs, work.resolve("restore"));
        } finally {
            TestStreamEnvironment.unsetAsContext();
            cluster.closeAsync().get(1, TimeUnit.MINUTES);
        }
    }

    /** Median tokens/s of one whole-prompt prefill of BOS + template(document) over a PagedKvCache. */
    private static double engineAlonePrefill(Path document, int runs) throws Exception {
        LlamaModel model = LlamaModel.load(JobFixtures.model(), new LoadOptions(null, JobFixtures.CONTEXT));
        int[] tokens = model.tokenizer().encode(PromptTemplate.parse(JobFixtures.PROMPT).apply(Files.readString(document)));
        int[] all = new int[tokens.length + 1];
        all[0] = model.tokenizer().bos();
        System.arraycopy(tokens, 0, all, 1, tokens.length);
        double[] rates = new double[runs + 1];
        for (int r = 0; r <= runs; r++) { // run 0 warms the JIT up and is dropped
            PagedKvCache cache = new PagedKvCache(model.cacheShape(),
                    JobFixtures.decoderCacheConfig(JobFixtures.BUDGET_TOKENS),
                    new InMemoryPageStore(PageLayout.of(model.config().headDim()), CacheConfig.DEFAULT_PAGE_FORMAT),
                    DocumentCache.projection(model.config().headDim()));
            long start = System.nanoTime();
            model.newSession(cache).prefill(all, 0, all.length, true);
            rates[r] = all.length / ((System.nanoTime() - start) / 1e9);
        }
        double[] measured = Arrays.copyOfRange(rates, 1, rates.length);
        Arrays.sort(measured);
        return measured[runs / 2];
    }

    /** One job over the document, generating one token: tokens_in / decoder seconds, from its finish line. */
    private static double jobPrefill(MiniCluster cluster, Path input, Path dir, List<AbstractCheckpointStats> out)
            throws Exception {
        Configuration config = JobFixtures.config(dir.resolve("cp"));
        config.setString("parallelism.default", "1");
        config.setString("icecache.generate.max-tokens", "1");
        try (DecoderLog log = DecoderLog.attach()) {
            JobClient client = new SummarizeJob(SummarizeJob.fileSource(input, 256),
                    SummarizeJob.fileSink(dir.resolve("out")), config).executeAsync();
            client.getJobExecutionResult().get(10, TimeUnit.MINUTES);
            for (AbstractCheckpointStats s : cluster.getArchivedExecutionGraph(client.getJobID()).get()
                    .getCheckpointStatsSnapshot().getHistory().getCheckpoints()) {
                if (s.getStatus() == CheckpointStatsStatus.COMPLETED) {
                    out.add(s);
                }
            }
            String line = log.lines.stream().filter(l -> l.contains(" finished: ")).findFirst().orElseThrow();
            Matcher m = FINISHED.matcher(line);
            if (!m.find()) {
                throw new IllegalStateException("unexpected finish line: " + line);
            }
            return Long.parseLong(m.group(1)) / Double.parseDouble(m.group(2));
        }
    }

    private static void reportCheckpoints(List<AbstractCheckpointStats> stats) {
        if (stats.isEmpty()) {
            System.out.println("checkpoints: none completed during the runs");
            return;
        }
        long[] full = stats.stream().mapToLong(AbstractCheckpointStats::getStateSize).sorted().toArray();
        long[] incremental = stats.stream().mapToLong(AbstractCheckpointStats::getCheckpointedSize).sorted().toArray();
        long[] millis = stats.stream().mapToLong(AbstractCheckpointStats::getEndToEndDuration).sorted().toArray();
        System.out.printf("checkpoints (%d completed, 200 ms interval, RocksDB incremental, unaligned):%n", stats.size());
        System.out.printf("  full state size  median %d KiB, max %d KiB%n", full[full.length / 2] / 1024,
                full[full.length - 1] / 1024);
        System.out.printf("  checkpointed (incremental) size  median %d KiB, max %d KiB%n",
                incremental[incremental.length / 2] / 1024, incremental[incremental.length - 1] / 1024);
        System.out.printf("  end-to-end duration  median %d ms, max %d ms%n", millis[millis.length / 2],
                millis[millis.length - 1]);
    }

    /** Stops a watched-directory job with a savepoint mid-document and resumes it; prints restore figures. */
    private static void restore(Path docs, Path dir) throws Exception {
        String savepoint;
        try (DecoderLog log = DecoderLog.attach()) {
            JobClient first = new SummarizeJob(SummarizeJob.fileSource(docs, 256, Duration.ofSeconds(1)),
                    SummarizeJob.fileSink(dir.resolve("out")), JobFixtures.config(dir.resolve("cp1"))).executeAsync();
            if (!log.awaitLine("document long.txt started", Duration.ofMinutes(2))) {
                throw new IllegalStateException("long.txt never started");
            }
            savepoint = JobFixtures.stopWithSavepoint(first, dir.resolve("sp"));
        }
        Configuration resumed = JobFixtures.config(dir.resolve("cp2"));
        resumed.setString("execution.state-recovery.path", savepoint);
        long start = System.nanoTime();
        try (DecoderLog log = DecoderLog.attach()) {
            new SummarizeJob(SummarizeJob.fileSource(docs, 256), SummarizeJob.fileSink(dir.resolve("out")), resumed)
                    .execute();
            double wall = (System.nanoTime() - start) / 1e9;
            for (String line : log.lines) {
                Matcher m = RESTORED.matcher(line);
                if (line.contains("resumed from state") && m.find()) {
                    System.out.printf("restore: %s at position %s rebuilt from state in %s ms (no recompute)%n",
                            line.substring("document ".length(), line.indexOf(" resumed")), m.group(1), m.group(2));
                }
            }
            System.out.printf("restore: savepoint %s; resumed job ran to the end in %.1f s wall%n",
                    Path.of(java.net.URI.create(savepoint)).getFileName(), wall);
        }
    }
}
