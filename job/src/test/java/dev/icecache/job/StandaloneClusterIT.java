package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
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

    @TempDir
    Path dir;

    private StandaloneCluster cluster;

    @AfterEach
    void stopCluster() throws InterruptedException {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void shouldSummarizeTheExamplesWhenSubmittedWithFlinkRun() throws Exception {
        Path model = JobFixtures.model();
        Path jar = StandaloneCluster.jobJar();
        cluster = StandaloneCluster.configure(dir, Map.of());
        Path documents = JobFixtures.writeDocuments(dir.resolve("docs"));
        Path output = dir.resolve("out");

        cluster.startJobManager();
        cluster.startTaskManager("taskmanager");

        Process run = cluster.flink("run", List.of(jar.toString(), "summarize", "--input", documents.toString(),
                "--model", model.toString(), "--output", output.toString(),
                "--context", Integer.toString(JobFixtures.CONTEXT), "--policy", "ICECACHE",
                "--budget", Integer.toString(JobFixtures.BUDGET_TOKENS),
                "--max-tokens", Integer.toString(JobFixtures.MAX_TOKENS), "--parallelism", "2",
                "--chunk-chars", "256", "--checkpoint-interval", "500ms"));
        if (!run.waitFor(5, TimeUnit.MINUTES)) {
            fail("flink run did not finish in 5 minutes; client log:\n" + StandaloneCluster.tail(cluster.log("client")));
        }
        assertEquals(0, run.exitValue(), "flink run failed; logs:\n" + cluster.logs());

        Map<String, List<JobFixtures.Piece>> out = JobFixtures.readOutput(output);
        assertEquals(List.of("long.txt", "medium.txt", "short.txt"), List.copyOf(out.keySet()));
        for (var e : out.entrySet()) {
            assertEquals(JobFixtures.engineAlone(documents.resolve(e.getKey())), JobFixtures.text(e.getValue()),
                    "document " + e.getKey());
        }
        assertTrue(Files.readString(cluster.log("taskmanager")).contains("document long.txt finished"),
                "the TaskManager process did the decoding");
    }
}
