package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A summarize run in a child JVM (this test JVM's classpath and module flags, the launcher's
 * log configuration), which a test kills with SIGKILL or interrupts with SIGINT. Its stdout and
 * stderr go to {@code <name>.log}; {@link RecordingReporter} writes its counters to
 * {@code <name>.metrics}.
 */
final class ChildJob implements AutoCloseable {

    private static final Duration TIMEOUT = Duration.ofMinutes(4);
    private static final Pattern RESUMED = Pattern.compile(
            "document (\\S+) resumed from state: position=(\\d+) pages=\\d+ decoding=(true|false)");

    final Process process;
    final Path log;
    final Path metrics;

    private ChildJob(Process process, Path log, Path metrics) {
        this.process = process;
        this.log = log;
        this.metrics = metrics;
    }

    /** The reporter options that make the child write {@code <name>.metrics} every 100 ms. */
    static List<String> metricsConf(Path dir, String name) {
        List<String> conf = new ArrayList<>();
        RecordingReporter.configure("100 ms", dir.resolve(name + ".metrics"))
                .forEach((k, v) -> conf.addAll(List.of("--conf", k + "=" + v)));
        return conf;
    }

    /** Starts {@code main} with {@code args} in a child JVM. */
    static ChildJob start(Path dir, String name, Class<?> main, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx768m", "-XX:+UseSerialGC"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-") || a.startsWith("--enable-native-access") || a.startsWith("-XX:+Ignore")) {
                cmd.add(a);
            }
        }
        cmd.add("-Dicecache.models.dir=" + JobFixtures.model().getParent().getParent().toAbsolutePath());
        cmd.add("-Dlog4j.configurationFile=" + Path.of(System.getProperty("icecache.flink.conf.dir",
                "../flink-conf")).resolve("log4j-cli.properties").toAbsolutePath());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(args);
        Path log = dir.resolve(name + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new ChildJob(p, log, dir.resolve(name + ".metrics"));
    }

    /** The child's output so far. */
    String output() throws IOException {
        return Files.readString(log);
    }

    /** The sum of the child's {@code icecache.<counter>} counters at its last report, -1 before its first. */
    long counter(String counter) throws IOException {
        return Long.parseLong(RecordingReporter.read(metrics).getOrDefault(counter, "-1"));
    }

    /** Polls until the counter {@code icecache.<counter>} reaches at least {@code atLeast}. */
    void awaitCounter(String counter, long atLeast) throws Exception {
        await(counter + " >= " + atLeast, () -> {
            try {
                return counter(counter) >= atLeast;
            } catch (IOException | NumberFormatException e) {
                return false; // being replaced: read again
            }
        });
    }

    /** Polls until {@code condition} holds; fails with the child's output when it exits or times out first. */
    void await(String what, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (!process.isAlive()) {
                fail("the child job exited (" + process.exitValue() + ") before " + what + "\n" + output());
            }
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what + "\n" + output());
            }
            process.waitFor(50, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Waits for a checkpoint under {@code checkpoints} completed after this call, then kills the
     * child with SIGKILL.
     */
    void killAfterNextCheckpoint(Path checkpoints) throws Exception {
        FileTime after = FileTime.fromMillis(System.currentTimeMillis());
        await("a checkpoint to complete", () -> newestCheckpoint(checkpoints).compareTo(after) > 0);
        process.destroyForcibly(); // SIGKILL on Linux
        assertTrue(process.waitFor(1, TimeUnit.MINUTES), "the child job did not die");
    }

    /** Sends SIGINT (Ctrl-C). */
    void interrupt() throws Exception {
        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).inheritIO().start();
        assertTrue(kill.waitFor(1, TimeUnit.MINUTES) && kill.exitValue() == 0, "kill -INT failed");
    }

    /** Waits for the child to end and returns its exit code. */
    int awaitExit() throws Exception {
        if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            fail("the child job did not end in " + TIMEOUT + "\n" + output());
        }
        return process.exitValue();
    }

    /** The position and phase a document resumed at, from the decoder's log line. */
    record Resumed(String doc, long position, boolean decoding) {
    }

    /** The decoder's "resumed from state" lines in the child's output. */
    List<Resumed> resumed() throws IOException {
        List<Resumed> r = new ArrayList<>();
        Matcher m = RESUMED.matcher(output());
        while (m.find()) {
            r.add(new Resumed(m.group(1), Long.parseLong(m.group(2)), Boolean.parseBoolean(m.group(3))));
        }
        return r;
    }

    static FileTime newestCheckpoint(Path checkpoints) {
        if (!Files.isDirectory(checkpoints)) {
            return FileTime.fromMillis(0);
        }
        try (Stream<Path> files = Files.walk(checkpoints, 3)) {
            return files.filter(p -> p.getFileName().toString().equals("_metadata")).map(p -> {
                try {
                    return Files.getLastModifiedTime(p);
                } catch (IOException e) {
                    return FileTime.fromMillis(0); // deleted as a newer one completed
                }
            }).max(FileTime::compareTo).orElse(FileTime.fromMillis(0));
        } catch (IOException | java.io.UncheckedIOException e) {
            return FileTime.fromMillis(0); // a directory vanished while listed: look again
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
