package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.icecache.job.resume.RunSettings;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code icecache summarize --resume} as a user runs it: the command in a child JVM is killed
 * (SIGKILL) in the middle of its prefill or of its decoding, or stopped by Ctrl-C, then the
 * same command with {@code --resume} finishes the document: the output holds the pieces of one
 * uninterrupted run, none twice, and the resumed run prefills only what the checkpoint lacked.
 */
class ResumeCommandTest {

    /** Long enough that decoding spans several 200 ms checkpoints. */
    private static final int MAX_TOKENS = 640;

    /** The last line of a run stopped by Ctrl-C: where, and the --resume that continues it. */
    private static final Pattern STOPPED = Pattern.compile(
            "icecache: stopped at (savepoint|checkpoint) (\\S+) \\(\\d+\\.\\d s after Ctrl-C\\); to continue, run the"
                    + " same command with --resume (\\S+)");

    @TempDir
    static Path shared;

    private static Path documents;
    private static String expected;

    private final StringWriter err = new StringWriter();

    @BeforeAll
    static void writeTheDocumentAndItsEngineAloneSummary() throws IOException {
        documents = JobFixtures.writeLongDocument(shared.resolve("docs"));
        expected = JobFixtures.engineAlone(documents.resolve("long.txt"), MAX_TOKENS);
    }

    private static List<String> summarize(Path dir, String... more) {
        List<String> args = new ArrayList<>(List.of("summarize", "--input", documents.toString(),
                "--model", JobFixtures.model().toString(), "--context", Integer.toString(JobFixtures.CONTEXT),
                "--prompt", JobFixtures.PROMPT, "--policy", "ICECACHE",
                "--budget", Integer.toString(JobFixtures.BUDGET_TOKENS), "--max-tokens", Integer.toString(MAX_TOKENS),
                "--chunk-chars", "256", "--conf", "icecache.decode.slice-tokens=2", "--parallelism", "1",
                "--output", dir.resolve("out").toString(), "--checkpoint-dir", dir.resolve("cp").toString(),
                "--checkpoint-interval", "200ms", "--progress", "OFF"));
        args.addAll(List.of(more));
        return args;
    }

    private static ChildJob start(Path dir, String name, String... more) throws IOException {
        List<String> args = summarize(dir, more);
        args.addAll(ChildJob.metricsConf(dir, name));
        return ChildJob.start(dir, name, IceCacheCli.class, args);
    }

    @Test
    void shouldResumeAKilledRunFromItsCheckpointInTheMiddleOfThePrefill(@TempDir Path dir) throws Exception {
        killAfterNextCheckpointOnce(dir, "prefilledTokens", 256);
        ChildJob.Resumed at = resumeAndCheck(dir);
        assertTrue(!at.decoding() && at.position() > 0, "not resumed in the prefill: " + at);

        // the same checkpoint with other settings: one line naming the setting, exit 1
        List<String> otherBudget = summarize(dir, "--resume");
        otherBudget.set(otherBudget.indexOf("--budget") + 1, "128");
        assertEquals(1, runHere(otherBudget), err.toString());
        assertOneLine("icecache: --resume " + dir.resolve("cp").toAbsolutePath());
        assertTrue(err.toString().contains("icecache.budget.tokens=64, this run has 128"), err.toString());
    }

    @Test
    void shouldResumeAKilledRunFromItsCheckpointInTheMiddleOfTheDecoding(@TempDir Path dir) throws Exception {
        killAfterNextCheckpointOnce(dir, "generatedTokens", 8);
        ChildJob.Resumed at = resumeAndCheck(dir);
        assertTrue(at.decoding(), "not resumed in the decoding: " + at);
    }

    @Test
    void shouldStopOnCtrlCInTheMiddleOfThePrefillAndResumeFromThePrintedPath(@TempDir Path dir) throws Exception {
        ChildJob.Resumed at = interruptAndResume(dir, "prefilledTokens", 256);
        assertTrue(!at.decoding() && at.position() > 0, "not resumed in the prefill: " + at);
    }

    @Test
    void shouldStopOnCtrlCInTheMiddleOfTheDecodingAndResumeFromThePrintedPath(@TempDir Path dir) throws Exception {
        ChildJob.Resumed at = interruptAndResume(dir, "generatedTokens", 8);
        assertTrue(at.decoding(), "not resumed in the decoding: " + at);
    }

    /**
     * Sends Ctrl-C (SIGINT) once {@code counter} >= {@code atLeast}; the run stops at once at a
     * checkpoint or savepoint and prints it; the same command with {@code --resume <it>} finishes.
     */
    private ChildJob.Resumed interruptAndResume(Path dir, String counter, long atLeast) throws Exception {
        String path;
        // no periodic checkpoint in this run: where it stops was taken on Ctrl-C
        List<String> args = summarize(dir);
        args.set(args.indexOf("--checkpoint-interval") + 1, "1h");
        args.addAll(ChildJob.metricsConf(dir, "first"));
        try (ChildJob first = ChildJob.start(dir, "first", IceCacheCli.class, args)) {
            first.awaitCounter(counter, atLeast);
            first.interrupt();
            assertEquals(130, first.awaitExit(), first.output());
            String out = first.output();
            assertTrue(out.contains("icecache: stopping: a checkpoint now (Ctrl-C again to quit now)"), out);
            Matcher stop = STOPPED.matcher(out);
            assertTrue(stop.find(), out);
            assertEquals("checkpoint", stop.group(1), "a bounded input stops at the checkpoint taken on Ctrl-C");
            path = stop.group(2);
            assertEquals(path, stop.group(3), out);
            assertTrue(Files.isRegularFile(Path.of(path).resolve("_metadata")), "not complete: " + path);
            assertTrue(!out.contains("\tat ") && !out.contains("Exception"), "a stack trace on Ctrl-C:\n" + out);
        }
        return resumeAndCheck(dir, path);
    }

    /** Runs the command in a child JVM and kills it (SIGKILL) after the first checkpoint once {@code counter} >= {@code atLeast}. */
    private static void killAfterNextCheckpointOnce(Path dir, String counter, long atLeast) throws Exception {
        try (ChildJob first = start(dir, "first")) {
            first.awaitCounter(counter, atLeast);
            first.killAfterNextCheckpoint(dir.resolve("cp"));
        }
    }

    /** Runs the command again with --resume; checks output and prefilled tokens; returns where it resumed. */
    private ChildJob.Resumed resumeAndCheck(Path dir) throws Exception {
        return resumeAndCheck(dir, null);
    }

    /** As {@link #resumeAndCheck(Path)}, with {@code --resume from} when {@code from} is not null. */
    private ChildJob.Resumed resumeAndCheck(Path dir, String from) throws Exception {
        String[] resume = from == null ? new String[] {"--resume"} : new String[] {"--resume", from};
        try (ChildJob again = start(dir, "resumed", resume)) {
            assertEquals(0, again.awaitExit(), again.output());
            String log = again.output();
            assertTrue(log.contains("icecache: resuming from " + (from == null ? dir.resolve("cp").toAbsolutePath()
                    : from)), log);
            assertTrue(!log.contains("\tat ") && !log.contains("Exception"), "a stack trace on success:\n" + log);
            Map<String, List<JobFixtures.Piece>> out = JobFixtures.readOutput(dir.resolve("out"));
            assertEquals(List.of("long.txt"), List.copyOf(out.keySet()));
            assertEquals(expected, JobFixtures.text(out.get("long.txt")), "text across the interruption");
            List<ChildJob.Resumed> resumed = again.resumed();
            assertEquals(1, resumed.size(), log);
            ChildJob.Resumed at = resumed.get(0);
            List<JobFixtures.Piece> pieces = out.get("long.txt");
            long tokensIn = pieces.get(pieces.size() - 1).tokensIn();
            long prefilled = again.counter("prefilledTokens");
            assertEquals(at.decoding() ? 0 : tokensIn - at.position(), prefilled,
                    "tokens prefilled by the resumed run (document " + tokensIn + " tokens, resumed at " + at + ")");
            return at;
        }
    }

    @Test
    void shouldSayInOneLineThatThereIsNothingToResume(@TempDir Path dir) throws Exception {
        Path model = Files.writeString(dir.resolve("model.gguf"), "not read before the checkpoint is found");
        List<String> base = List.of("summarize", "--input", dir.toString(), "--model", model.toString());

        assertEquals(1, runHere(concat(base, "--resume")), err.toString());
        assertOneLine("icecache: --resume needs the run's --checkpoint-dir DIR");

        assertEquals(1, runHere(concat(base, "--resume", dir.resolve("nope").toString())), err.toString());
        assertOneLine("icecache: --resume " + dir.resolve("nope") + " does not exist");

        Path cp = dir.resolve("cp");
        Files.createDirectories(cp.resolve("0123/chk-6"));
        assertEquals(1, runHere(concat(base, "--resume", cp.resolve("0123/chk-6").toString())), err.toString());
        assertOneLine("icecache: --resume " + cp.resolve("0123/chk-6") + " is unfinished (no _metadata");

        assertEquals(1, runHere(concat(base, "--checkpoint-dir", cp.toString(), "--resume")), err.toString());
        assertOneLine("icecache: --checkpoint-dir " + cp + " holds no complete checkpoint or savepoint (1 unfinished");

        Files.writeString(Files.createDirectories(cp.resolve("0123/chk-5")).resolve("_metadata"), "not metadata");
        assertEquals(1, runHere(concat(base, "--checkpoint-dir", cp.toString(), "--resume")), err.toString());
        assertOneLine("icecache: --resume " + cp.resolve("0123/chk-5").toAbsolutePath() + ": its _metadata is not"
                + " Flink 2.x checkpoint metadata");

        // settings kept beside the checkpoint are compared before Flink reads anything
        new RunSettings(Map.of("model", "other.gguf (1 bytes)")).writeTo(cp.resolve("0123"));
        assertEquals(1, runHere(concat(base, "--checkpoint-dir", cp.toString(), "--resume")), err.toString());
        assertOneLine("icecache: --resume " + cp.resolve("0123/chk-5").toAbsolutePath() + " was written by a run with"
                + " model='other.gguf (1 bytes)', this run has 'model.gguf (");
    }

    private static String[] concat(List<String> base, String... more) {
        List<String> all = new ArrayList<>(base);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    private int runHere(List<String> args) {
        return runHere(args.toArray(String[]::new));
    }

    private int runHere(String... args) {
        err.getBuffer().setLength(0);
        var cli = IceCacheCli.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        return cli.execute(args);
    }

    private void assertOneLine(String start) {
        String e = err.toString();
        assertTrue(e.startsWith(start), "expected a line starting with\n  " + start + "\ngot\n  " + e);
        assertEquals(1, e.strip().lines().count(), e);
    }
}
