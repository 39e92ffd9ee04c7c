package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real standalone Flink cluster: a JobManager and a TaskManager process started from the
 * provided-scope Flink jars with the shipped {@code flink-conf/} files (stack.md section 2), the
 * packaged job jar submitted with the CLI's {@code run}, its JSON lines read back. Runs in the
 * {@code integration-test} phase, after {@code package} has built the jar.
 */
class StandaloneClusterIT {

    private static final List<String> JVM_OPENS = List.of("--add-modules", "jdk.incubator.vector",
            "-XX:+IgnoreUnrecognizedVMOptions", "--enable-native-access=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED");

    @TempDir
    Path dir;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopCluster() throws InterruptedException {
        for (Process p : started) {
            p.destroy();
        }
        for (Process p : started) {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void shouldSummarizeTheExamplesWhenSubmittedWithFlinkRun() throws Exception {
        Path model = JobFixtures.model();
        Path jar = Path.of(required("icecache.job.jar"));
        String classpath = Files.readString(Path.of(required("icecache.cluster.classpath"))).trim();
        Path shippedConf = Path.of(required("icecache.flink.conf.dir"));
        Path conf = writeConf(shippedConf, freePort());
        Path documents = JobFixtures.writeDocuments(dir.resolve("docs"));
        Path output = dir.resolve("out");

        start("jobmanager", conf, classpath, "GET_JM_RESOURCE_PARAMS",
                "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint");
        start("taskmanager", conf, classpath, "GET_TM_RESOURCE_PARAMS",
                "org.apache.flink.runtime.taskexecutor.TaskManagerRunner");

        List<String> submit = new ArrayList<>(List.of(java()));
        submit.addAll(JVM_OPENS);
        submit.addAll(List.of("-Dlog4j.configurationFile=" + conf.resolve("log4j-cli.properties").toUri(),
                "-cp", classpath, "org.apache.flink.client.cli.CliFrontend", "run", "-m",
                "localhost:" + restPort(conf), jar.toString(), "summarize", "--input", documents.toString(),
                "--model", model.toString(), "--output", output.toString(),
                "--context", Integer.toString(JobFixtures.CONTEXT), "--policy", "ICECACHE",
                "--budget", Integer.toString(JobFixtures.BUDGET_TOKENS),
                "--max-tokens", Integer.toString(JobFixtures.MAX_TOKENS), "--parallelism", "2",
                "--chunk-chars", "256", "--checkpoint-interval", "500ms"));
        ProcessBuilder client = new ProcessBuilder(submit).redirectErrorStream(true)
                .redirectOutput(dir.resolve("client.log").toFile());
        client.environment().put("FLINK_CONF_DIR", conf.toString());
        Process run = client.start();
        started.add(run);
        if (!run.waitFor(5, TimeUnit.MINUTES)) {
            fail("flink run did not finish in 5 minutes; client log:\n" + tail(dir.resolve("client.log")));
        }
        assertEquals(0, run.exitValue(), "flink run failed; client log:\n" + tail(dir.resolve("client.log"))
                + "\ntaskmanager log:\n" + tail(dir.resolve("taskmanager.log")));

        Map<String, List<JobFixtures.Piece>> out = JobFixtures.readOutput(output);
        assertEquals(List.of("long.txt", "medium.txt", "short.txt"), List.copyOf(out.keySet()));
        for (var e : out.entrySet()) {
            assertEquals(JobFixtures.engineAlone(documents.resolve(e.getKey())), JobFixtures.text(e.getValue()),
                    "document " + e.getKey());
        }
        assertTrue(Files.readString(dir.resolve("taskmanager.log")).contains("document long.txt finished"),
                "the TaskManager process did the decoding");
    }

    /** The shipped config with this test's ports, directories and smaller memory. */
    private Path writeConf(Path shipped, int restPort) throws IOException {
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Map<String, String> overrides = Map.of(
                "rest.port", Integer.toString(restPort),
                "jobmanager.rpc.port", Integer.toString(freePort()),
                "jobmanager.memory.process.size", "768m",
                "taskmanager.memory.process.size", "1280m",
                "execution.checkpointing.dir", dir.resolve("checkpoints").toUri().toString(),
                "execution.checkpointing.savepoint-dir", dir.resolve("savepoints").toUri().toString(),
                "restart-strategy.fixed-delay.delay", "1 s");
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(shipped.resolve("config.yaml"))) {
            int colon = line.indexOf(':');
            if (colon < 0 || line.startsWith("#") || !overrides.containsKey(line.substring(0, colon).trim())) {
                lines.add(line);
            }
        }
        overrides.forEach((k, v) -> lines.add(k + ": " + v));
        Files.write(conf.resolve("config.yaml"), lines);
        for (String f : List.of("log4j.properties", "log4j-cli.properties", "log4j-console.properties")) {
            Files.copy(shipped.resolve(f), conf.resolve(f));
        }
        return conf;
    }

    /** Starts a cluster process with the JVM and dynamic parameters Flink's BashJavaUtils computes. */
    private void start(String name, Path conf, String classpath, String resourceParams, String mainClass)
            throws IOException, InterruptedException {
        List<String> params = bashJavaUtils(conf, classpath, resourceParams);
        List<String> cmd = new ArrayList<>(List.of(java()));
        cmd.addAll(Arrays.asList(params.get(0).trim().split("\\s+")));
        cmd.addAll(JVM_OPENS);
        cmd.addAll(List.of("-Dlog.file=" + dir.resolve(name + ".log"),
                "-Dlog4j.configurationFile=" + conf.resolve("log4j.properties").toUri(),
                "-cp", classpath, mainClass, "--configDir", conf.toString()));
        if (params.size() > 1) {
            cmd.addAll(Arrays.asList(params.get(1).trim().split("\\s+")));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".out").toFile());
        started.add(pb.start());
    }

    private List<String> bashJavaUtils(Path conf, String classpath, String command)
            throws IOException, InterruptedException {
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

    private static int restPort(Path conf) throws IOException {
        return Files.readAllLines(conf.resolve("config.yaml")).stream().filter(l -> l.startsWith("rest.port:"))
                .map(l -> Integer.parseInt(l.substring("rest.port:".length()).trim())).findFirst().orElseThrow();
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

    private static String tail(Path file) {
        try {
            List<String> lines = Files.exists(file) ? Files.readAllLines(file) : List.of("(no " + file + ")");
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }
}
