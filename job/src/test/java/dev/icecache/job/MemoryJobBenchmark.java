package dev.icecache.job;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.icecache.model.synthetic.RandomModels;
import dev.icecache.operators.document.DocumentChunk;
import dev.icecache.operators.document.TextChunker;
import dev.icecache.model.tensor.GgmlType;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CheckpointStatsStatus;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.util.TestStreamEnvironment;

/**
 * Issue 12's job figures on a random-weight model of the Llama-3.2-1B attention shape (16
 * layers, 8 KV heads, head dim 64; dim 512, FFN 64 and a 512-token vocabulary so prefill is
 * quick), through the RocksDB job on a MiniCluster in this JVM. A test-scope main:
 *
 * <pre>
 *   writes DOC_CHARS                 one document: keyed-state bytes per prefill chunk and per
 *                                    16-token decode slice, and the checkpoints' sizes
 *   budget DOCS DOC_CHARS BUDGET     DOCS documents cut from the books in BOOKS_DIR, concurrently
 *                                    (their chunks interleaved),
 *                                    under icecache.memory.budget=BUDGET: finished, equal to the
 *                                    engine alone, peak RSS, restores' share of the decoder's time
 * </pre>
 * System properties: {@code icecache.books.dir} (default examples/books), {@code icecache.bench.dir}
 * (work folder, default a temp folder).
 */
public final class MemoryJobBenchmark {

    /** The 1B attention shape with a small FFN and vocabulary. */
    static final RandomModels.Shape SHAPE = new RandomModels.Shape(512, 64, 16, 8, 8, 512, 65536);
    static final String PROMPT = "{document}\n\nSummary:";
    static final int MAX_TOKENS = 64;
    /** Characters per chunk (about 1,700 tokens of this model's 512-token vocabulary). */
    static final int CHUNK_CHARS = 2048;

    private static final Pattern FINISHED = Pattern.compile("document (\\S+) finished: tokens_in=(\\d+).*"
            + "state_bytes_whole_pages_per_chunk=(\\d+) state_bytes_whole_pages_per_slice=(\\d+).*"
            + "state_bytes_per_chunk=(\\d+) \\((\\d+) chunks\\) state_bytes_per_slice=(\\d+) \\((\\d+) slices\\)"
            + ".* seconds=([0-9.E-]+)");
    private static final Pattern RESTORED = Pattern.compile(
            "resumed from state: position=(\\d+).* restore_ms=([0-9.E-]+)");

    private MemoryJobBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path work = System.getProperty("icecache.bench.dir") != null
                ? Files.createDirectories(Path.of(System.getProperty("icecache.bench.dir")))
                : Files.createTempDirectory("icecache-memory");
        Path model = work.resolve("random-1b-attention.gguf");
        if (!Files.exists(model)) {
            RandomModels.write(model, SHAPE, GgmlType.F32, 12, true);
        }
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(2).build());
        cluster.start();
        TestStreamEnvironment.setAsContext(cluster, 1);
        try {
            switch (args[0]) {
                case "writes" -> writes(cluster, model, work, Integer.parseInt(args[1]));
                case "budget" -> budget(cluster, model, work, Integer.parseInt(args[1]), Integer.parseInt(args[2]),
                        args[3], args.length > 4 ? Integer.parseInt(args[4]) : Integer.MAX_VALUE);
                default -> throw new IllegalArgumentException("mode writes|budget, not " + args[0]);
            }
        } finally {
            TestStreamEnvironment.unsetAsContext();
            cluster.closeAsync().get(1, TimeUnit.MINUTES);
        }
    }

    static Configuration config(Path model, Path checkpoints, String interval) {
        Configuration c = Configuration.fromMap(Map.of(
                "state.backend.type", "rocksdb",
                "execution.checkpointing.dir", checkpoints.toUri().toString(),
                "execution.checkpointing.interval", interval,
                "execution.checkpointing.incremental", "true",
                // as the launcher: aligned barriers would queue behind every buffered chunk of the
                // interleaved documents (seen: checkpoints expired after 10 minutes, the job failed)
                "execution.checkpointing.unaligned.enabled", "true",
                "restart-strategy.type", "none",
                "parallelism.default", "1"));
        c.setString("icecache.model.path", model.toString());
        c.setString("icecache.model.context", Integer.toString(SHAPE.contextLength()));
        c.setString("icecache.prompt", PROMPT);
        c.setString("icecache.generate.max-tokens", Integer.toString(MAX_TOKENS));
        c.setString("icecache.gpu.enabled", "false");
        return c;
    }

    /** Text of {@code chars} characters from the books, the {@code i}-th cut (different books, then further in). */
    static String excerpt(int i, int chars) throws Exception {
        Path dir = Path.of(System.getProperty("icecache.books.dir", "examples/books"));
        List<Path> books;
        try (var s = Files.list(dir)) {
            books = s.filter(p -> p.toString().endsWith(".txt")).sorted().toList();
        }
        String book = Files.readString(books.get(i % books.size()), StandardCharsets.UTF_8);
        int from = Math.min(book.length() - chars, 20_000 + (i / books.size()) * (chars + 1000));
        return book.substring(Math.max(0, from), Math.max(0, from) + chars);
    }

    private static void writes(MiniCluster cluster, Path model, Path work, int chars) throws Exception {
        Path in = Files.createDirectories(work.resolve("writes-in"));
        Files.writeString(in.resolve("doc.txt"), excerpt(0, chars));
        Path run = work.resolve("writes-" + System.nanoTime());
        try (DecoderLog log = DecoderLog.attach()) {
            JobClient client = new SummarizeJob(SummarizeJob.fileSource(in, 4096),
                    SummarizeJob.fileSink(run.resolve("out")), config(model, run.resolve("cp"), "1 s")).executeAsync();
            client.getJobExecutionResult().get(60, TimeUnit.MINUTES);
            for (String line : log.lines) {
                Matcher m = FINISHED.matcher(line);
                if (m.find()) {
                    System.out.println(line);
                    System.out.printf("state writes: tokens_in=%s bytes/chunk=%s over %s chunks, bytes/slice=%s over"
                                    + " %s slices, decoder %.1f s; with whole pages instead of patches: bytes/chunk=%s,"
                                    + " bytes/slice=%s%n", m.group(2), m.group(5), m.group(6), m.group(7),
                            m.group(8), Double.parseDouble(m.group(9)), m.group(3), m.group(4));
                }
            }
            List<AbstractCheckpointStats> cps = new ArrayList<>();
            for (AbstractCheckpointStats s : cluster.getArchivedExecutionGraph(client.getJobID()).get()
                    .getCheckpointStatsSnapshot().getHistory().getCheckpoints()) {
                if (s.getStatus() == CheckpointStatsStatus.COMPLETED) {
                    cps.add(s);
                }
            }
            long full = cps.stream().mapToLong(AbstractCheckpointStats::getStateSize).max().orElse(0);
            long incr = cps.stream().mapToLong(AbstractCheckpointStats::getCheckpointedSize).sum();
            System.out.printf("checkpoints: %d completed, largest full state %d KiB, incremental sum %d KiB%n",
                    cps.size(), full / 1024, incr / 1024);
        }
    }

    private static void budget(MiniCluster cluster, Path model, Path work, int docs, int chars, String budget,
                               int compare) throws Exception {
        Path in = Files.createDirectories(work.resolve("budget-in-" + docs + "-" + chars));
        for (int i = 0; i < docs; i++) {
            Files.writeString(in.resolve(String.format("doc%02d.txt", i)), excerpt(i, chars));
        }
        Path run = work.resolve("budget-" + System.nanoTime());
        Configuration config = config(model, run.resolve("cp"), "10 s");
        config.setString("icecache.memory.budget", budget);
        config.setString("icecache.chunk.chars", Integer.toString(CHUNK_CHARS));
        long start = System.nanoTime();
        double decoderSeconds = 0;
        double restoreMs = 0;
        int restores = 0;
        int finished = 0;
        long tokens = 0;
        try (DecoderLog log = DecoderLog.attach()) {
            new SummarizeJob(interleaved(in, CHUNK_CHARS), SummarizeJob.fileSink(run.resolve("out")), config)
                    .execute();
            for (String line : log.lines) {
                Matcher m = FINISHED.matcher(line);
                if (m.find()) {
                    finished++;
                    tokens += Long.parseLong(m.group(2));
                    decoderSeconds += Double.parseDouble(m.group(9));
                }
                Matcher r = RESTORED.matcher(line);
                if (r.find()) {
                    restores++;
                    restoreMs += Double.parseDouble(r.group(2));
                }
            }
        }
        double wall = (System.nanoTime() - start) / 1e9;
        System.out.printf("budget %s: %d of %d documents finished (%d prompt tokens) in %.0f s wall; peak RSS %d MiB,"
                        + " max heap %d MiB%n", budget, finished, docs, tokens, wall, peakRssKib() / 1024,
                Runtime.getRuntime().maxMemory() >> 20);
        System.out.printf("restores: %d taking %.1f s, %.1f%% of the decoder's %.1f s%n", restores, restoreMs / 1e3,
                100 * restoreMs / 1e3 / decoderSeconds, decoderSeconds);
        Map<String, List<JobFixtures.Piece>> out = JobFixtures.readOutput(run.resolve("out"));
        int equal = 0;
        int compared = 0;
        for (int i = 0; i < Math.min(docs, compare); i++) {
            String name = String.format("doc%02d.txt", i);
            String job = JobFixtures.text(out.get(name));
            String engine = JobFixtures.engineAlone(model, SHAPE.contextLength(), 256, MAX_TOKENS, in.resolve(name));
            compared++;
            if (job.equals(engine)) {
                equal++;
            } else {
                System.out.printf("MISMATCH %s: job=%s engine=%s%n", name, job, engine);
            }
        }
        System.out.printf("output equal to the engine alone: %d of %d compared%n", equal, compared);
    }

    /**
     * The documents under {@code in} as chunks of at most {@code chunkChars}, interleaved one chunk
     * of each document in turn (as {@code icecache produce} writes a Kafka topic), so that every
     * document is open at once: what a file source, which reads one file after another, does not do.
     */
    static DataGeneratorSource<DocumentChunk> interleaved(Path in, int chunkChars) throws Exception {
        List<List<DocumentChunk>> docs = new ArrayList<>();
        try (var files = Files.list(in)) {
            for (Path f : files.sorted().toList()) {
                List<DocumentChunk> chunks = new ArrayList<>();
                try (var reader = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                    TextChunker chunker = new TextChunker(reader, f.getFileName().toString(), chunkChars);
                    for (DocumentChunk c = chunker.next(); c != null; c = chunker.next()) {
                        chunks.add(c);
                    }
                }
                docs.add(chunks);
            }
        }
        List<String> ids = new ArrayList<>();
        List<Integer> seqs = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        List<Boolean> lasts = new ArrayList<>();
        for (int round = 0; ids.size() < docs.stream().mapToInt(List::size).sum(); round++) {
            for (List<DocumentChunk> chunks : docs) {
                if (round < chunks.size()) {
                    DocumentChunk c = chunks.get(round);
                    ids.add(c.docId());
                    seqs.add(c.seq());
                    texts.add(c.text());
                    lasts.add(c.last());
                }
            }
        }
        String[] id = ids.toArray(String[]::new);
        int[] seq = seqs.stream().mapToInt(Integer::intValue).toArray();
        String[] text = texts.toArray(String[]::new);
        boolean[] last = new boolean[lasts.size()];
        for (int i = 0; i < last.length; i++) {
            last[i] = lasts.get(i);
        }
        GeneratorFunction<Long, DocumentChunk> chunk = i -> new DocumentChunk(id[i.intValue()], seq[i.intValue()],
                text[i.intValue()], last[i.intValue()]);
        return new DataGeneratorSource<>(chunk, id.length, TypeInformation.of(DocumentChunk.class));
    }

    /** VmHWM of this process, KiB (0 where /proc is missing). */
    static long peakRssKib() throws Exception {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return 0;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }
}
