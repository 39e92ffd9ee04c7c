package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every job sub-command that succeeds says nothing alarming: run as {@code bin/icecache} runs
 * them (a JVM of their own, the launcher's log configuration), their output holds no stack
 * trace, no exception and no ERROR line. ({@code produce} needs a Kafka broker: the Kafka job
 * test runs it.)
 */
class QuietSuccessTest {

    @TempDir
    Path dir;

    private String run(String name, int exitCode, String... args) throws Exception {
        try (ChildJob child = ChildJob.start(dir, name, IceCacheCli.class, List.of(args))) {
            assertEquals(exitCode, child.awaitExit(), child.output());
            return child.output();
        }
    }

    private static void assertQuiet(String command, String output) {
        for (String line : output.lines().toList()) {
            boolean alarming = line.startsWith("\tat ") || line.contains("Exception") || line.contains(" ERROR ")
                    || line.startsWith("Caused by");
            assertFalse(alarming, command + " printed on success:\n  " + line + "\nin\n" + output);
        }
    }

    @Test
    void shouldPrintNoTraceOnSuccess() throws Exception {
        String model = JobFixtures.model().toString();
        assertQuiet("generate", run("generate", 0, "generate", "--model", model, "--prompt", "Once upon a time",
                "--max-tokens", "8", "--progress", "OFF"));
        assertQuiet("inspect-model", run("inspect-model", 0, "inspect-model", model));
        assertQuiet("--help", run("help", 0, "--help"));
        assertQuiet("--version", run("version", 0, "--version"));

        Path docs = JobFixtures.writeDocuments(dir.resolve("docs"));
        Files.delete(docs.resolve("long.txt"));
        Files.delete(docs.resolve("medium.txt"));
        Path cp = dir.resolve("cp");
        List<String> summarize = List.of("summarize", "--input", docs.toString(), "--model", model,
                "--context", "2048", "--max-tokens", "16", "--output", dir.resolve("out").toString(),
                "--checkpoint-dir", cp.toString(), "--checkpoint-interval", "200ms", "--progress", "LOG");
        String summarized = run("summarize", 0, summarize.toArray(String[]::new));
        assertQuiet("summarize", summarized);
        assertTrue(summarized.contains("document short.txt finished"), summarized);

        // a retained checkpoint to inspect: a run over a longer document stopped by Ctrl-C once it started
        Path longDocs = JobFixtures.writeDocuments(dir.resolve("long-docs"));
        Files.delete(longDocs.resolve("short.txt"));
        Files.delete(longDocs.resolve("medium.txt"));
        List<String> stopped = new ArrayList<>(summarize);
        stopped.set(stopped.indexOf("--input") + 1, longDocs.toString());
        stopped.set(stopped.indexOf("--context") + 1, "4096");
        stopped.set(stopped.indexOf("--output") + 1, dir.resolve("out-stopped").toString());
        try (ChildJob child = ChildJob.start(dir, "stopped", IceCacheCli.class, stopped)) {
            child.await("the document to start", () -> {
                try {
                    return child.output().contains("document long.txt started");
                } catch (IOException e) {
                    return false;
                }
            });
            child.interrupt();
            assertEquals(130, child.awaitExit(), child.output());
            assertQuiet("summarize stopped by Ctrl-C", child.output());
        }
        Path checkpoint = retainedCheckpoint(cp);
        String inspected = run("inspect-state", 0, "inspect-state", checkpoint.toString());
        assertQuiet("inspect-state", inspected);
        assertTrue(inspected.contains("state:     " + checkpoint), inspected);
    }

    private static Path retainedCheckpoint(Path cp) throws IOException {
        try (Stream<Path> files = Files.walk(cp, 3)) {
            return files.filter(p -> p.getFileName().toString().equals("_metadata")).map(Path::getParent)
                    .findFirst().orElseThrow(() -> new AssertionError("no checkpoint retained under " + cp));
        }
    }
}
