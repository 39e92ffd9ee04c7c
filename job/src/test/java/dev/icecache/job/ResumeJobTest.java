package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.icecache.job.resume.EmbeddedJob;
import dev.icecache.job.resume.InterruptToSavepoint;
import dev.icecache.job.resume.ResumePoint;
import dev.icecache.job.resume.RunSettings;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job killed in its own JVM (SIGKILL) in the middle of a document's prefill or decoding,
 * then resumed here from the newest complete checkpoint {@link ResumePoint} finds: the output
 * equals an uninterrupted run's piece for piece, and the resumed run's {@code prefilledTokens}
 * counter is the document's tokens minus the checkpoint's position.
 */
class ResumeJobTest {

    /** Long enough that decoding spans several 200 ms checkpoints. */
    static final int MAX_TOKENS = 640;

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2)
                    .setConfiguration(Configuration.fromMap(RecordingReporter.configure("1 h", null))).build());

    private static final Pattern RESUMED = Pattern.compile(
            "document long.txt resumed from state: position=(\\d+) pages=\\d+ decoding=(true|false)");

    @TempDir
    static Path shared;

    private static Path documents;
    private static Map<String, List<JobFixtures.Piece>> uninterrupted;

    /** The child JVM: runs the job over {@code args[0]} into {@code args[1]} with checkpoints in {@code args[2]}. */
    public static void main(String[] args) throws Exception {
        Configuration config = config(Path.of(args[2]));
        config.addAll(Configuration.fromMap(RecordingReporter.configure("100 ms", Path.of(args[3]))));
        new SummarizeJob(SummarizeJob.fileSource(Path.of(args[0]), 256), SummarizeJob.fileSink(Path.of(args[1])),
                config).execute();
    }

    static Configuration config(Path checkpoints) {
        Configuration c = JobFixtures.config(checkpoints);
        c.setString("icecache.generate.max-tokens", Integer.toString(MAX_TOKENS));
        c.setString("parallelism.default", "1");
        c.setString("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        return c;
    }

    @BeforeAll
    static void runWithoutInterruption() throws Exception {
        documents = JobFixtures.writeLongDocument(shared.resolve("docs"));
        Path out = shared.resolve("out-uninterrupted");
        new SummarizeJob(SummarizeJob.fileSource(documents, 256), SummarizeJob.fileSink(out),
                config(shared.resolve("cp-uninterrupted"))).execute();
        uninterrupted = JobFixtures.readOutput(out);
    }

    @Test
    void shouldFinishFromTheCheckpointAfterAKillInThePrefill(@TempDir Path dir) throws Exception {
        try (ChildJob child = startChild(dir)) {
            child.awaitCounter("prefilledTokens", 256);
            child.killAfterNextCheckpoint(dir.resolve("cp"));
        }
        assertTrue(!resume(dir), "resumed in the decoding, not the prefill");
    }

    @Test
    void shouldFinishFromTheCheckpointAfterAKillInTheDecoding(@TempDir Path dir) throws Exception {
        try (ChildJob child = startChild(dir)) {
            child.awaitCounter("generatedTokens", 8);
            child.killAfterNextCheckpoint(dir.resolve("cp"));
        }
        assertTrue(resume(dir), "resumed in the prefill, not the decoding");
    }

    private static ChildJob startChild(Path dir) throws IOException {
        return ChildJob.start(dir, "child", ResumeJobTest.class, List.of(documents.toString(),
                dir.resolve("out").toString(), dir.resolve("cp").toString(), dir.resolve("child.metrics").toString()));
    }

    /**
     * Ctrl-C's stop, run here on a job whose input is still being read (a watched directory, so the
     * source never ends): a checkpoint, then a savepoint, which the job resumed with the bounded
     * source finishes from.
     */
    @Test
    void shouldStopWithASavepointWhileTheInputIsReadAndFinishFromIt(@TempDir Path dir) throws Exception {
        Configuration config = config(dir.resolve("cp"));
        config.setString("execution.checkpointing.interval", "1 h"); // only the stop's checkpoint and savepoint
        config.addAll(Configuration.fromMap(RecordingReporter.configure("1 h", null)));
        RecordingReporter.clear();
        EmbeddedJob running = EmbeddedJob.submit(new SummarizeJob(
                SummarizeJob.fileSource(documents, 256, Duration.ofSeconds(1)), SummarizeJob.fileSink(dir.resolve("out")),
                config));
        StringWriter err = new StringWriter();
        InterruptToSavepoint.Stop at;
        try (InterruptToSavepoint stop = InterruptToSavepoint.withoutSignal(running, dir.resolve("cp"),
                new RunSettings(Map.of()), Duration.ofMinutes(3), true, new PrintWriter(err, true))) {
            awaitWhileRunning(running, () -> RecordingReporter.counterSum("prefilledTokens") >= 256);
            stop.interrupted();
            try {
                running.client().getJobExecutionResult().get(4, TimeUnit.MINUTES);
            } catch (ExecutionException cancelled) {
                // the stop cancels the job once its savepoint is complete
            }
            at = stop.stopped().orElseThrow(() -> new AssertionError("not stopped: " + err));
        }
        assertTrue(at.savepoint(), "stopped at a checkpoint, not a savepoint: " + err);
        assertTrue(at.dir().startsWith(dir.resolve("cp").resolve(InterruptToSavepoint.SAVEPOINTS).toAbsolutePath()),
                at.toString());
        resume(dir, new ResumePoint(at.dir()));
    }

    /** Polls {@code condition} while the job runs; fails when the job ends first or after 3 minutes. */
    private static void awaitWhileRunning(EmbeddedJob job, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out");
            try {
                job.client().getJobExecutionResult().get(50, TimeUnit.MILLISECONDS);
                throw new AssertionError("the job ended first");
            } catch (TimeoutException running) {
                // look again
            }
        }
    }

    /** Resumes here; checks output and prefilled tokens; returns whether the document resumed in its decoding. */
    private static boolean resume(Path dir) throws Exception {
        return resume(dir, ResumePoint.find(null, dir.resolve("cp")));
    }

    /** As {@link #resume(Path)}, from {@code point}. */
    private static boolean resume(Path dir, ResumePoint point) throws Exception {
        Configuration config = config(dir.resolve("cp-resumed"));
        config.set(StateRecoveryOptions.SAVEPOINT_PATH, point.pointer());
        RecordingReporter.clear();
        String line;
        try (DecoderLog log = DecoderLog.attach()) {
            new SummarizeJob(SummarizeJob.fileSource(documents, 256), SummarizeJob.fileSink(dir.resolve("out")),
                    config).execute();
            line = log.lines.stream().filter(l -> RESUMED.matcher(l).find()).findFirst()
                    .orElseThrow(() -> new AssertionError("long.txt did not resume from " + point + ": " + log.lines));
        }
        Map<String, List<JobFixtures.Piece>> out = JobFixtures.readOutput(dir.resolve("out"));
        assertEquals(uninterrupted, out, "output across the kill differs from an uninterrupted run");
        Matcher m = RESUMED.matcher(line);
        assertTrue(m.find());
        long position = Long.parseLong(m.group(1));
        boolean decoding = Boolean.parseBoolean(m.group(2));
        List<JobFixtures.Piece> pieces = out.get("long.txt");
        long tokensIn = pieces.get(pieces.size() - 1).tokensIn();
        assertEquals(decoding ? 0 : tokensIn - position, RecordingReporter.counterSum("prefilledTokens"),
                "tokens prefilled after resuming at " + line + " (document " + tokensIn + " tokens)");
        return decoding;
    }
}
