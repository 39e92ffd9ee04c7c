package dev.icecache.job.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs one of the python3 scripts in {@code examples/tools/} as a user would. Tests that call it
 * skip when python3 is missing, except under CI ({@code CI=true}), where it must be there.
 */
final class PythonTool {

    /** What a run printed and how it ended. */
    record Run(int exitCode, byte[] stdout, String stderr) {

        String stdoutText() {
            return new String(stdout, StandardCharsets.UTF_8);
        }
    }

    /** Generous: the fixtures take well under a second; this only stops a hung interpreter. */
    private static final long LIMIT_SECONDS = 120;

    private final Path script;

    private PythonTool(Path script) {
        this.script = script;
    }

    /** The tool {@code examples/tools/<name>}; skips (or fails under CI) when python3 is absent. */
    static PythonTool named(String name) {
        boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
        if (!pythonAvailable()) {
            if (ci) {
                fail("python3 is not on the PATH; CI must provide it for the examples/tools tests");
            }
            assumeTrue(false, "python3 not found on the PATH; skipping the examples/tools extractor tests");
        }
        return new PythonTool(findScript(name));
    }

    private static boolean pythonAvailable() {
        try {
            Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Surefire runs in the module folder; the scripts live under the repository root. */
    private static Path findScript(String name) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("examples").resolve("tools").resolve(name);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("examples/tools/" + name + " not found above " + Path.of("").toAbsolutePath());
    }

    /** Runs the script with these arguments and waits for it. */
    Run run(Path workDir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("python3", script.toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(workDir, "stdout", ".bin");
        Path err = Files.createTempFile(workDir, "stderr", ".txt");
        Process p = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(script.getFileName() + " did not finish within " + LIMIT_SECONDS + " s: " + command);
        }
        return new Run(p.exitValue(), Files.readAllBytes(out), Files.readString(err, StandardCharsets.UTF_8));
    }

    /** Asserts the run failed with exactly one line on stderr, starting with the tool's name. */
    static void assertOneLineError(Run run, String tool, String mustContain) {
        assertTrue(run.exitCode() != 0, "expected a failure exit code, got 0; stdout: " + run.stdoutText());
        String err = run.stderr();
        assertTrue(err.endsWith("\n") && err.indexOf('\n') == err.length() - 1,
                "expected exactly one line on stderr, got:\n" + err);
        assertTrue(err.startsWith(tool + ": "), "expected the error to start with '" + tool + ": ', got: " + err);
        assertTrue(err.contains(mustContain), "expected the error to mention '" + mustContain + "', got: " + err);
    }
}
