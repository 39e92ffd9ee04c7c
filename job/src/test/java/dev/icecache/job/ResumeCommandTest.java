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
    void shouldStopAtTheNextCheckpointOnCtrlCAndResumeFromIt(@TempDir Path dir) throws Exception {
        try (ChildJob first = start(dir, "first")) {
            first.awaitCounter("prefilledTokens", 256);
            first.interrupt();
            assertEquals(130, first.awaitExit(), first.output());
            String out = first.output();
            assertTrue(out.contains("icecache: stopping at the next checkpoint (every 200ms;"), out);
            assertTrue(out.contains("icecache: stopped at checkpoint " + dir.resolve("cp").toAbsolutePath()), out);
            assertTrue(out.contains("; to continue, run the same command with --resume"), out);
        }
        ChildJob.Resumed at = resumeAndCheck(dir);
        assertTrue(!at.decoding() && at.position() > 0, "not resumed in the prefill: " + at);
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
        try (ChildJob again = start(dir, "resumed", "--resume")) {
            assertEquals(0, again.awaitExit(), again.output());
            String log = again.output();
            assertTrue(log.contains("icecache: resuming from " + dir.resolve("cp").toAbsolutePath()), log);
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
