package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failure soak with a killed TaskManager process: the summarize job runs on a standalone cluster
 * (one JobManager, one TaskManager process with 2 slots, RocksDB checkpoints), and once a
 * checkpoint has completed and some output is committed the TaskManager is killed with SIGKILL
 * and a fresh one started. The job must restore from the checkpoint, finish, and write every
 * document exactly once with the engine-alone text. {@code -Dicecache.tmkill.kills=K} makes the
 * first test kill K TaskManagers in turn: every kill after the first comes while the job recovers
 * from the one before (once the fresh TaskManager has finished a document), so the same
 * checkpoint is restored again. {@code -Dicecache.tmkill.documents=N} (documents for one kill, half as many more per further kill) and
 * {@code -Dicecache.tmkill.seed=S} change the input.
 */
class TaskManagerKillIT {

    private static final int KILLS = Integer.getInteger("icecache.tmkill.kills", 1);
    // NOTE: 12, not 8, since the prefill batch became 128 (fewer passes per document): with 8 the
    // two-kill test's job committed every document before its second kill in a CI run
    private static final int DOCUMENTS_PER_KILL = Integer.getInteger("icecache.tmkill.documents", 12);
    private static final long SEED = Long.getLong("icecache.tmkill.seed", 6L);
    private static final Duration STEP_TIMEOUT = Duration.ofMinutes(3);
    private static final String DOCUMENT_FINISHED = " finished: tokens_in=";

    @TempDir
    Path dir;

    private StandaloneCluster cluster;
    private Process jobManager;
    private Process taskManager;
    private String job;
    private Path output;
    private int documents;
    private boolean checkpointsDuringRecovery;

    @AfterEach
    void stopCluster() throws InterruptedException {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** One kill as the test saw it; times are wall-clock milliseconds. */
    private record Kill(int number, long killedAt, String when, long restoredCheckpoint, long detectedAt,
            long restoredAt) {
    }

    @Test
    void shouldWriteTheFailureFreeOutputAfterTheTaskManagerProcessIsKilled() throws Exception {
        soak(KILLS, false);
    }

    /**
     * With {@code execution.checkpointing.during-recovery.enabled} a checkpoint completes while
     * the decoder still replays its recovered in-flight input; the second kill comes right after
     * one, so the job restores from a checkpoint taken during recovery.
     */
    @Test
    void shouldRestoreACheckpointTakenDuringRecoveryAfterASecondKill() throws Exception {
        soak(2, true);
    }

    private void soak(int killCount, boolean duringRecovery) throws Exception {
        documents = DOCUMENTS_PER_KILL + DOCUMENTS_PER_KILL / 2 * (killCount - 1);
        checkpointsDuringRecovery = duringRecovery;
        Path model = JobFixtures.model();
        Path jar = StandaloneCluster.jobJar();
        Path docs = writeDocuments(dir.resolve("docs"), new SplittableRandom(SEED));
        Map<String, String> expected = new TreeMap<>();
        try (var files = Files.list(docs)) {
            for (Path d : files.sorted().toList()) {
                expected.put(d.getFileName().toString(), JobFixtures.engineAlone(d));
            }
        }
        output = dir.resolve("out");
        cluster = StandaloneCluster.configure(dir, Map.of(
                "restart-strategy.fixed-delay.attempts", Integer.toString(2 * killCount + 3),
                // a killed TaskManager refuses heartbeat RPCs: lost after 2 failed ones, 1 s apart
                "heartbeat.interval", "1000",
                "heartbeat.timeout", "20000",
                // the REST API caches job and checkpoint statistics this long (default 3 s)
                "web.refresh-interval", "500"));
        jobManager = cluster.startJobManager();
        taskManager = cluster.startTaskManager("taskmanager-0");
        long start = System.currentTimeMillis();
        submit(jar, model, docs);

        List<Kill> kills = new ArrayList<>();
        for (int k = 1; k <= killCount; k++) {
            kills.add(killAndReplace(k, kills.isEmpty() ? -1 : kills.get(kills.size() - 1).restoredCheckpoint()));
        }
        long restored = kills.get(kills.size() - 1).restoredCheckpoint();
        long[] checkpointSeenAt = {-1};
        cluster.await("job " + job + " FINISHED", STEP_TIMEOUT, jobManager, () -> {
            if (checkpointSeenAt[0] < 0 && latest("completed").path("id").asLong(-1) > restored) {
                checkpointSeenAt[0] = System.currentTimeMillis();
            }
            return ended() ? Optional.of(true) : Optional.empty();
        });
        long end = System.currentTimeMillis();

        Map<String, List<JobFixtures.Piece>> out = JobFixtures.readOutput(output);
        assertEquals(expected.keySet(), out.keySet(), "documents in the output after " + killCount + " kill(s)");
        for (var e : out.entrySet()) {
            assertEquals(expected.get(e.getKey()), JobFixtures.text(e.getValue()),
                    "document " + e.getKey() + " after " + killCount + " TaskManager kill(s); seed=" + SEED);
        }
        assertTrue(Files.readString(cluster.log("taskmanager-" + killCount)).contains(DOCUMENT_FINISHED),
                "the last fresh TaskManager finished no document\n"
                        + StandaloneCluster.tail(cluster.log("taskmanager-" + killCount)));
        if (duringRecovery) {
            assertTrue(kills.get(1).restoredCheckpoint() > kills.get(0).restoredCheckpoint(),
                    "the second restore used a checkpoint taken after the first restore: " + kills);
        }
        report(kills, start, checkpointSeenAt[0], end);
    }

    /** {@code flink run --detached}, then the job id from {@code /jobs/overview}. */
    private void submit(Path jar, Path model, Path docs) throws Exception {
        List<String> args = new ArrayList<>(List.of("--detached", jar.toString(), "summarize",
                "--input", docs.toString(), "--model", model.toString(), "--output", output.toString(),
                "--context", Integer.toString(JobFixtures.CONTEXT), "--policy", "ICECACHE",
                "--budget", Integer.toString(JobFixtures.BUDGET_TOKENS),
                "--max-tokens", Integer.toString(JobFixtures.MAX_TOKENS), "--parallelism", "2",
                "--chunk-chars", "256", "--checkpoint-interval", "300ms"));
        if (checkpointsDuringRecovery) {
            // Flink 2.3 needs both: output buffers recovered downstream, then checkpoints may start
            args.addAll(List.of("--conf", "execution.checkpointing.unaligned.recover-output-on-downstream.enabled=true",
                    "--conf", "execution.checkpointing.during-recovery.enabled=true"));
        }
        Process client = cluster.flink("run", args);
        assertTrue(client.waitFor(2, TimeUnit.MINUTES), "flink run --detached did not return in 2 minutes\n"
                + cluster.logs());
        assertEquals(0, client.exitValue(), "flink run --detached failed\n" + cluster.logs());
        job = cluster.await("the submitted job in /jobs/overview", STEP_TIMEOUT, jobManager, () ->
                cluster.rest("/jobs/overview").map(o -> o.get("jobs")).filter(j -> j.size() == 1)
                        .map(j -> j.get(0).get("jid").asText()));
    }

    /**
     * Waits for the kill point, kills the TaskManager (SIGKILL), starts a fresh one and waits
     * until the JobManager has restored the job from a checkpoint.
     */
    private Kill killAndReplace(int k, long restoredBefore) throws Exception {
        String when = cluster.await("the point of kill " + k, STEP_TIMEOUT, jobManager,
                () -> killPoint(k, restoredBefore));
        taskManager.destroyForcibly();
        assertTrue(taskManager.waitFor(1, TimeUnit.MINUTES), "the killed TaskManager did not exit");
        long killedAt = System.currentTimeMillis();
        taskManager = cluster.startTaskManager("taskmanager-" + k);
        JsonNode restored = cluster.await("the job restored from a checkpoint after kill " + k, STEP_TIMEOUT,
                jobManager, () -> {
                    if (ended()) {
                        fail("job " + job + " finished without a restore after kill " + k);
                    }
                    JsonNode r = latest("restored");
                    return r.isObject() && r.get("restore_timestamp").asLong() >= killedAt ? Optional.of(r)
                            : Optional.empty();
                });
        long detectedAt = cluster.rest("/jobs/" + job).orElseThrow().get("timestamps").get("RESTARTING").asLong();
        return new Kill(k, killedAt, when, restored.get("id").asLong(), detectedAt,
                restored.get("restore_timestamp").asLong());
    }

    /**
     * Kill 1: once a checkpoint has completed and some output is committed. Later kills, while
     * the job recovers from the kill before: once a checkpoint newer than the restored one has
     * completed (with checkpoints during recovery), else once the fresh TaskManager has finished
     * a document. Empty until then; fails if every document is committed first (the job is too
     * short to be killed mid-way).
     */
    private Optional<String> killPoint(int k, long restoredBefore) throws Exception {
        JsonNode completed = latest("completed");
        if (ended() || !completed.isObject() || !Files.isDirectory(output)) {
            return Optional.empty();
        }
        int lines = 0;
        int finals = 0;
        for (List<JobFixtures.Piece> pieces : JobFixtures.readOutput(output).values()) {
            lines += pieces.size();
            finals += pieces.get(pieces.size() - 1).last() ? 1 : 0;
        }
        if (finals == documents) {
            fail("every document was committed before kill " + k + ": the job is too short for this machine;"
                    + " raise -Dicecache.tmkill.documents (now " + DOCUMENTS_PER_KILL + " for one kill)");
        }
        long checkpoint = completed.get("id").asLong();
        boolean ready;
        String when;
        if (k == 1) {
            ready = lines > 0;
            when = "after checkpoint " + checkpoint + " completed";
        } else if (checkpointsDuringRecovery) {
            ready = checkpoint > restoredBefore;
            when = "during the recovery from kill " + (k - 1) + ", after checkpoint " + checkpoint + " completed";
        } else {
            ready = Files.readString(cluster.log("taskmanager-" + (k - 1))).contains(DOCUMENT_FINISHED);
            when = "during the recovery from kill " + (k - 1) + ", after the fresh TaskManager finished a document";
        }
        when += " (committed: " + lines + " lines, " + finals + " of " + documents + " documents final)";
        return ready ? Optional.of(when) : Optional.empty();
    }

    /** {@code latest.<kind>} of the job's checkpoint statistics (a null node when there is none). */
    private JsonNode latest(String kind) throws Exception {
        return cluster.rest("/jobs/" + job + "/checkpoints").orElseThrow().get("latest").path(kind);
    }

    /** True once the job is FINISHED; fails the test if it FAILED or was CANCELED. */
    private boolean ended() throws Exception {
        String state = cluster.rest("/jobs/" + job).orElseThrow().get("state").asText();
        if (state.equals("FAILED") || state.equals("CANCELED")) {
            fail("job " + job + " is " + state + "\n" + cluster.logs());
        }
        return state.equals("FINISHED");
    }

    private void report(List<Kill> kills, long start, long checkpointSeenAt, long end) {
        Kill last = kills.get(kills.size() - 1);
        StringBuilder sb = new StringBuilder(String.format("TaskManager kill soak (checkpoints during recovery: %s): %d documents, parallelism 2,"
                + " seed=%d: %d TaskManager process(es) killed, %d survived (output equal to the engine alone,"
                + " every document once); %.1f s from submission to FINISHED; after the last kill: first new"
                + " checkpoint %s, FINISHED +%.1f s", checkpointsDuringRecovery, documents, SEED, kills.size(), kills.size(),
                (end - start) / 1000.0, checkpointSeenAt < 0 ? "none (finished first)"
                        : String.format("+%.1f s", (checkpointSeenAt - last.killedAt()) / 1000.0),
                (end - last.killedAt()) / 1000.0));
        for (Kill k : kills) {
            sb.append(String.format("%n  kill %d %s: failure detected +%.1f s, restore of checkpoint %d"
                    + " started +%.1f s", k.number(), k.when(), (k.detectedAt() - k.killedAt()) / 1000.0,
                    k.restoredCheckpoint(), (k.restoredAt() - k.killedAt()) / 1000.0));
        }
        System.out.println(sb);
    }

    /** Seeded slices (600 to 2,000 characters) of the example documents, one file each. */
    private Path writeDocuments(Path dir, SplittableRandom random) throws Exception {
        Path examples = Path.of(System.getProperty("icecache.examples.dir", "../examples/documents"));
        String all = Files.readString(examples.resolve("garden.txt")) + "\n\n"
                + Files.readString(examples.resolve("lighthouse.txt")) + "\n\n"
                + Files.readString(examples.resolve("clockmaker.txt"));
        Files.createDirectories(dir);
        for (int d = 0; d < documents; d++) {
            int length = 600 + random.nextInt(1400);
            int from = random.nextInt(all.length() - length);
            Files.writeString(dir.resolve(String.format("doc-%02d.txt", d)), all.substring(from, from + length));
        }
        return dir;
    }
}
