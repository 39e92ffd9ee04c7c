package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.icecache.operators.config.IceCacheOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.state.rocksdb.RocksDBConfigurableOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.CompressionType;
import picocli.CommandLine;

/** Options, exit codes and one-line errors of {@code icecache summarize} (no job is run). */
class SummarizeCommandTest {

    @TempDir
    Path dir;

    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = IceCacheCli.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        return cli.execute(args);
    }

    private Path model() throws IOException {
        return Files.writeString(dir.resolve("model.gguf"), "not read before the options are checked");
    }

    @Test
    void shouldExitWithOneLineErrorWhenInputIsMissing() throws IOException {
        assertEquals(1, run("summarize", "--input", dir.resolve("nope").toString(), "--model", model().toString()));
        assertTrue(err.toString().startsWith("icecache: --input "), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
    }

    @Test
    void shouldExitWithUsageErrorWhenModelIsNotGiven() {
        assertEquals(2, run("summarize", "--input", dir.toString()));
        assertTrue(err.toString().contains("--model"), err.toString());
    }

    @Test
    void shouldExitWithUsageErrorWhenPolicyIsUnknown() throws IOException {
        assertEquals(2, run("summarize", "--input", dir.toString(), "--model", model().toString(), "--policy", "LRU"));
        assertTrue(err.toString().contains("LRU"), err.toString());
    }

    @Test
    void shouldRejectAnUnknownStateBackend() throws IOException {
        assertEquals(2, run("summarize", "--input", dir.toString(), "--model", model().toString(),
                "--state-backend", "memory"));
        assertTrue(err.toString().contains("--state-backend=memory is invalid; allowed: rocksdb or hashmap"),
                err.toString());
    }

    @Test
    void shouldRejectAStopTimeoutThatIsNotAPositiveDuration() throws IOException {
        for (String bad : new String[] {"soon", "0s"}) {
            err.getBuffer().setLength(0);
            assertEquals(2, run("summarize", "--input", dir.toString(), "--model", model().toString(),
                    "--stop-timeout", bad));
            assertTrue(err.toString().contains("--stop-timeout=" + bad + " is invalid; allowed: a positive duration"),
                    err.toString());
            assertEquals(1, err.toString().strip().lines().count(), err.toString());
        }
    }

    @Test
    void shouldNameTheOptionWhenTheBudgetIsNotAMultipleOfSixteen() throws IOException {
        assertEquals(2, run("summarize", "--input", dir.toString(), "--model", model().toString(), "--budget", "70"));
        assertTrue(err.toString().contains(IceCacheOptions.BUDGET_TOKENS.key()), err.toString());
    }

    @Test
    void shouldNameTheOptionWhenRollingSummariesAreTooClose() throws IOException {
        assertEquals(2, run("summarize", "--input", dir.toString(), "--model", model().toString(), "--rolling-every",
                "10"));
        assertTrue(err.toString().contains(IceCacheOptions.ROLLING_EVERY.key() + "=10 is invalid; allowed: 0 (off) or"
                + " an integer >= 64"), err.toString());
    }

    @Test
    void shouldMapFlagsToFlinkAndIceCacheKeys() throws IOException {
        SummarizeCommand cmd = new SummarizeCommand();
        new CommandLine(cmd).parseArgs("--input", dir.toString(), "--model", model().toString(), "--budget", "128",
                "--policy", "QUEST", "--max-tokens", "7", "--rolling-every", "512", "--parallelism", "3",
                "--state-backend", "hashmap",
                "--checkpoint-dir", dir.resolve("cp").toString(), "--conf", "icecache.decode.slice-tokens=5");
        Configuration c = cmd.toConfiguration(true);
        assertEquals("hashmap", c.getString("state.backend.type", null));
        assertEquals(dir.resolve("cp").toUri().toString(), c.getString("execution.checkpointing.dir", null));
        assertEquals("RETAIN_ON_CANCELLATION",
                c.getString("execution.checkpointing.externalized-checkpoint-retention", null), "kept for --resume");
        assertEquals("3", c.getString("parallelism.default", null));
        assertEquals(128, c.get(IceCacheOptions.BUDGET_TOKENS));
        assertEquals("QUEST", c.get(IceCacheOptions.POLICY).name());
        assertEquals(7, c.get(IceCacheOptions.MAX_TOKENS));
        assertEquals(512, c.get(IceCacheOptions.ROLLING_EVERY));
        assertEquals(5, c.get(IceCacheOptions.SLICE_TOKENS));
        assertEquals(model().toAbsolutePath().toString(), c.get(IceCacheOptions.MODEL_PATH));
    }

    /** RocksDB as prefill's page reads need it (bloom filters, BF16 pages uncompressed), and --conf still overrides. */
    @Test
    void shouldTuneRocksDbForPageReadsUnlessOverridden() throws IOException {
        SummarizeCommand cmd = new SummarizeCommand();
        new CommandLine(cmd).parseArgs("--input", dir.toString(), "--model", model().toString());
        Configuration c = cmd.toConfiguration(true);
        assertEquals(true, c.get(RocksDBConfigurableOptions.USE_BLOOM_FILTER));
        assertEquals(List.of(CompressionType.NO_COMPRESSION), c.get(RocksDBConfigurableOptions.COMPRESSION_PER_LEVEL));
        SummarizeCommand overridden = new SummarizeCommand();
        new CommandLine(overridden).parseArgs("--input", dir.toString(), "--model", model().toString(),
                "--conf", "state.backend.rocksdb.use-bloom-filter=false");
        assertEquals(false, overridden.toConfiguration(true).get(RocksDBConfigurableOptions.USE_BLOOM_FILTER));
    }

    /**
     * Embedded with --input and no --parallelism: one subtask per document up to the cores, so a
     * single long document gets the whole memory budget; --parallelism and a cluster run keep
     * their own.
     */
    @Test
    void shouldRunOneSubtaskPerDocumentUpToTheCoresWhenEmbedded() throws IOException {
        int cores = Runtime.getRuntime().availableProcessors();
        Path docs = Files.createDirectories(dir.resolve("docs"));
        Path model = model();
        Files.writeString(docs.resolve("a.txt"), "one");
        Files.writeString(docs.resolve(".hidden"), "skipped by Flink's file source");
        Files.createDirectories(docs.resolve("_tmp"));
        Files.writeString(docs.resolve("_tmp").resolve("b.txt"), "skipped too");
        Files.createDirectories(docs.resolve("more"));
        Files.writeString(docs.resolve("more").resolve("c.txt"), "two");
        assertEquals(2, SummarizeCommand.documentsUpTo(docs, 10));
        assertEquals(1, SummarizeCommand.documentsUpTo(docs, 1));
        assertEquals(1, SummarizeCommand.documentsUpTo(docs.resolve("a.txt"), 10));

        String want = cores > 2 ? "2" : null; // two documents: fewer than the cores only past two
        assertEquals(want, parallelismOf(true, "--input", docs.toString(), "--model", model.toString()));
        assertEquals(cores > 1 ? "1" : null,
                parallelismOf(true, "--input", docs.resolve("a.txt").toString(), "--model", model.toString()));
        assertEquals("3", parallelismOf(true, "--input", docs.toString(), "--model", model.toString(),
                "--parallelism", "3"));
        assertEquals(null, parallelismOf(false, "--input", docs.resolve("a.txt").toString(), "--model",
                model.toString()));
    }

    private static String parallelismOf(boolean embedded, String... args) throws IOException {
        SummarizeCommand cmd = new SummarizeCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.toConfiguration(embedded).getString("parallelism.default", null);
    }
}
