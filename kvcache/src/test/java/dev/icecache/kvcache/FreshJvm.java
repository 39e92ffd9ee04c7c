package dev.icecache.kvcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a test's measurement in a JVM of its own (same JVM options, system properties and class
 * path) and returns the last line it printed.
 *
 * <p>NOTE: why. Whether C2 scalar-replaces the ranking kernel's vectors depends on what the JVM
 * compiled before: in the shared surefire JVM, after other test classes had compiled vector code
 * in another order, CI measured 1.1 GB allocated by 200 searches (boxed vectors on every dot) while
 * every order tried here gave 0. A decoder JVM compiles the search once for one workload, so the
 * allocation guard measures that: a fresh JVM whose only work is the search.
 */
public final class FreshJvm {

    private FreshJvm() {
    }

    /** Runs {@code main.main(args)} in a new JVM, asserts it exited 0 within 5 minutes, returns its last line. */
    public static String lastLine(Class<?> main, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("icecache."))
                .sorted().forEach(k -> command.add("-D" + k + "=" + System.getProperty(k)));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        Path log = Files.createTempFile("fresh-jvm-" + main.getSimpleName(), ".log");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            assertTrue(process.waitFor(5, TimeUnit.MINUTES), main.getSimpleName() + ": the measuring JVM did not finish in 5 minutes");
            List<String> lines = Files.readAllLines(log);
            assertEquals(0, process.exitValue(), main.getSimpleName() + ": the measuring JVM failed: " + String.join(" | ", lines));
            assertTrue(!lines.isEmpty(), main.getSimpleName() + ": the measuring JVM printed nothing");
            return lines.get(lines.size() - 1);
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
