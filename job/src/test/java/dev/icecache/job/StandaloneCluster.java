package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import dev.icecache.model.JavaRuntime;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A standalone Flink session cluster for the {@code *IT} tests: JobManager and TaskManager
 * processes started from the provided-scope Flink jars with the shipped {@code flink-conf/}
 * files (stack.md section 2), the way {@code bin/jobmanager.sh} and {@code bin/taskmanager.sh}
 * start them, plus the {@code flink} client and the REST API. Every file (config, logs,
 * checkpoints, RocksDB working directories) lives under one directory; {@link #close()} stops
 * every process this cluster started.
 */
final class StandaloneCluster implements AutoCloseable {

    private static final List<String> JVM_OPENS = List.of("--add-modules", "jdk.incubator.vector",
            JavaRuntime.TRAP_LIMIT_FLAG, "-XX:+IgnoreUnrecognizedVMOptions", "--enable-native-access=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final Path conf;
    private final String classpath;
    private final int restPort;
    private final List<Process> started = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private StandaloneCluster(Path dir, Path conf, String classpath, int restPort) {
        this.dir = dir;
        this.conf = conf;
        this.classpath = classpath;
        this.restPort = restPort;
    }

    /**
     * Writes the shipped config with free ports, directories under {@code dir}, smaller memory,
     * a 1 s restart delay and then {@code overrides}; skips the test outside {@code mvn verify}.
     */
    static StandaloneCluster configure(Path dir, Map<String, String> overrides) throws IOException {
        String classpath = Files.readString(Path.of(required("icecache.cluster.classpath"))).trim();
        Path shipped = Path.of(required("icecache.flink.conf.dir"));
        int restPort = freePort();
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("rest.port", Integer.toString(restPort));
        settings.put("jobmanager.rpc.port", Integer.toString(freePort()));
        settings.put("jobmanager.memory.process.size", "768m");
        settings.put("taskmanager.memory.process.size", "1280m");
        settings.put("execution.checkpointing.dir", dir.resolve("checkpoints").toUri().toString());
        settings.put("execution.checkpointing.savepoint-dir", dir.resolve("savepoints").toUri().toString());
        settings.put("io.tmp.dirs", Files.createDirectories(dir.resolve("tmp")).toString());
        settings.put("restart-strategy.fixed-delay.delay", "1 s");
        settings.putAll(overrides);

        Path conf = Files.createDirectories(dir.resolve("conf"));
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(shipped.resolve("config.yaml"))) {
            int colon = line.indexOf(':');
            if (colon < 0 || line.startsWith("#") || !settings.containsKey(line.substring(0, colon).trim())) {
                lines.add(line);
            }
        }
        settings.forEach((k, v) -> lines.add(k + ": " + v));
        Files.write(conf.resolve("config.yaml"), lines);
        for (String f : List.of("log4j.properties", "log4j-cli.properties", "log4j-console.properties")) {
            Files.copy(shipped.resolve(f), conf.resolve(f));
        }
        return new StandaloneCluster(dir, conf, classpath, restPort);
    }

    /** The packaged job jar ({@code icecache.job.jar}); skips the test outside {@code mvn verify}. */
    static Path jobJar() {
        return Path.of(required("icecache.job.jar"));
    }

    /** Starts the JobManager ({@code StandaloneSessionClusterEntrypoint}), logging to {@code jobmanager.log}. */
    Process startJobManager() throws IOException, InterruptedException {
        return startProcess("jobmanager", "GET_JM_RESOURCE_PARAMS",
                "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint");
    }

    /** Starts a TaskManager logging to {@code <name>.log}; each call is a new process with new ports. */
    Process startTaskManager(String name) throws IOException, InterruptedException {
        return startProcess(name, "GET_TM_RESOURCE_PARAMS", "org.apache.flink.runtime.taskexecutor.TaskManagerRunner");
    }

    /**
     * Starts {@code flink <action> -m localhost:<rest port> <args>} (the CLI front end) with its
     * output in {@code client.log}.
     */
    Process flink(String action, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(java()));
        cmd.addAll(JVM_OPENS);
        cmd.addAll(List.of("-Dlog4j.configurationFile=" + conf.resolve("log4j-cli.properties").toUri(),
                "-cp", classpath, "org.apache.flink.client.cli.CliFrontend", action, "-m", "localhost:" + restPort));
        cmd.addAll(args);
        ProcessBuilder client = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(log("client").toFile());
        client.environment().put("FLINK_CONF_DIR", conf.toString());
        return track(client.start());
    }

    /** The JSON at {@code path} of the REST API, or empty while the JobManager does not answer yet. */
    Optional<JsonNode> rest(String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + restPort + path))
                .timeout(Duration.ofSeconds(10)).GET().build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                fail("REST GET " + path + " answered " + response.statusCode() + ": " + response.body());
            }
            return Optional.of(JSON.readTree(response.body()));
        } catch (ConnectException e) {
            return Optional.empty();
        }
    }

    /**
     * Polls {@code condition} until it gives a value or {@code timeout} passes (then fails naming
     * {@code what} and the logs). Between polls it waits on the JobManager process, so a
     * JobManager that exits ends the wait at once with its log.
     */
    <T> T await(String what, Duration timeout, Process jobManager, Probe<T> condition)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<T> value = condition.get();
            if (value.isPresent()) {
                return value.get();
            }
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout.toSeconds() + " s waiting for " + what + "\n" + logs());
            }
            if (jobManager.waitFor(200, TimeUnit.MILLISECONDS)) {
                fail("the JobManager exited (" + jobManager.exitValue() + ") while waiting for " + what + "\n" + logs());
            }
        }
    }

    /** The log file of the process started as {@code name}. */
    Path log(String name) {
        return dir.resolve(name + ".log");
    }

    /** The last lines of the client, JobManager and every TaskManager log, for failure messages. */
    String logs() {
        StringBuilder sb = new StringBuilder();
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList()) {
                sb.append("---- ").append(f.getFileName()).append('\n').append(tail(f)).append('\n');
            }
        } catch (IOException e) {
            sb.append("(cannot list ").append(dir).append(": ").append(e.getMessage()).append(")");
        }
        return sb.toString();
    }

    /** The last 40 lines of {@code file}, or a note that it is missing. */
    static String tail(Path file) {
        try {
            List<String> lines = Files.exists(file) ? Files.readAllLines(file) : List.of("(no " + file + ")");
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    /** A condition polled by {@link #await}: a value once it holds, else empty. */
    @FunctionalInterface
    interface Probe<T> {
        Optional<T> get() throws Exception;
    }

    /** Stops every process started here: SIGTERM, then SIGKILL for any still alive after 30 s. */
    @Override
    public void close() throws InterruptedException {
        for (Process p : started) {
            p.destroy();
        }
        for (Process p : started) {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    /** Starts a cluster process with the JVM and dynamic parameters Flink's BashJavaUtils computes. */
    private Process startProcess(String name, String resourceParams, String mainClass)
            throws IOException, InterruptedException {
        List<String> params = bashJavaUtils(resourceParams);
        List<String> cmd = new ArrayList<>(List.of(java()));
        cmd.addAll(Arrays.asList(params.get(0).trim().split("\\s+")));
        cmd.addAll(JVM_OPENS);
        cmd.addAll(List.of("-Dlog.file=" + log(name),
                "-Dlog4j.configurationFile=" + conf.resolve("log4j.properties").toUri(),
                "-cp", classpath, mainClass, "--configDir", conf.toString()));
        if (params.size() > 1) {
            cmd.addAll(Arrays.asList(params.get(1).trim().split("\\s+")));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".out").toFile());
        return track(pb.start());
    }

    private Process track(Process p) {
        started.add(p);
        return p;
    }

    private List<String> bashJavaUtils(String command) throws IOException, InterruptedException {
        Path out = dir.resolve(command + ".txt");
        Process p = new ProcessBuilder(java(), "-cp", classpath, "org.apache.flink.runtime.util.bash.BashJavaUtils",
                command, "--configDir", conf.toString()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES) && p.exitValue() == 0, "BashJavaUtils failed: " + tail(out));
        String prefix = "BASH_JAVA_UTILS_EXEC_RESULT:";
        List<String> results = Files.readAllLines(out).stream().filter(l -> l.startsWith(prefix))
                .map(l -> l.substring(prefix.length())).toList();
        assertTrue(!results.isEmpty(), "no parameters from BashJavaUtils: " + tail(out));
        return results;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String required(String property) {
        String v = System.getProperty(property);
        org.junit.jupiter.api.Assumptions.assumeTrue(v != null,
                "system property " + property + " is not set: this test runs in 'mvn verify' (integration-test phase)");
        if (!Files.exists(Path.of(v))) {
            fail("system property " + property + "=" + v + " is not an existing path; run this test through"
                    + " 'mvn verify' (it needs the packaged job jar)");
        }
        return v;
    }
}
