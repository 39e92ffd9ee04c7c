package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import java.time.Duration;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The whole job on a 2-slot MiniCluster with RocksDB and 200 ms checkpoints. */
class SummarizeJobTest {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2)
                    .build());

    @TempDir
    static Path shared;

    private static Path documents;
    private static Map<String, List<JobFixtures.Piece>> failureFree;
    private static List<String> cleanLog;

    @BeforeAll
    static void runWithoutFailures() throws Exception {
        documents = JobFixtures.writeDocuments(shared.resolve("docs"));
        Path out = shared.resolve("out-clean");
        Configuration config = JobFixtures.config(shared.resolve("cp-clean"));
        try (DecoderLog log = DecoderLog.attach()) {
            new SummarizeJob(SummarizeJob.fileSource(documents, 256), SummarizeJob.fileSink(out), config).execute();
            cleanLog = List.copyOf(log.lines);
        }
        failureFree = JobFixtures.readOutput(out);
    }

    @Test
    void shouldKeepResidentPagesWithinThePoolWhileRocksDbHoldsFiftyTimesMore() {
        String line = cleanLog.stream().filter(l -> l.startsWith("document long.txt finished")).findFirst()
                .orElseThrow(() -> new AssertionError("no finish line for long.txt in " + cleanLog));
        long tokensIn = field(line, "tokens_in");
        long inState = field(line, "pages_in_state");
        long peak = field(line, "peak_resident_pages");
        long pool = field(line, "pool_pages");
        System.out.printf("long.txt: tokens_in=%d pages_in_state=%d peak_resident_pages=%d pool_pages=%d%n",
                tokensIn, inState, peak, pool);
        assertTrue(tokensIn >= 50L * JobFixtures.BUDGET_TOKENS, "document is not 50x the budget: " + line);
        assertTrue(peak > 0 && peak <= pool, "resident pages exceeded the pool: " + line);
        assertTrue(inState >= 50 * pool, "RocksDB holds fewer than 50x the resident pages: " + line);
    }

    private static long field(String line, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(name + "=(\\d+)").matcher(line);
        assertTrue(m.find(), name + " missing from " + line);
        return Long.parseLong(m.group(1));
    }

    @Test
    void shouldWriteOneCompleteGenerationPerDocumentEqualToTheEngineAlone() {
        assertEquals(List.of("long.txt", "medium.txt", "short.txt"), List.copyOf(failureFree.keySet()));
        for (var e : failureFree.entrySet()) {
            String text = JobFixtures.text(e.getValue());
            assertEquals(JobFixtures.engineAlone(documents.resolve(e.getKey())), text, "document " + e.getKey());
            JobFixtures.Piece last = e.getValue().get(e.getValue().size() - 1);
            assertTrue(last.tokensIn() > 300, "tokens_in of " + e.getKey() + " = " + last.tokensIn());
            assertTrue(last.tokensOut() > 0 && last.tokensOut() <= JobFixtures.MAX_TOKENS);
        }
    }

    @Test
    void shouldGiveIdenticalOutputWhenFailingDuringPrefillAndDuringDecoding(@TempDir Path dir) throws Exception {
        FailOnce.Quiet duringPrefill = new FailOnce.Quiet(dir.resolve("failed-in-prefill"), 2,
                "\"doc\":\"long.txt\"");
        FailOnce.Trigger duringDecoding = new FailOnce.Trigger(dir.resolve("failed-in-decoding"),
                "\"doc\":\"long.txt\"", "\"seq\":3,");
        // both run on each subtask of the hook; the markers make each fire once in all
        Path out = dir.resolve("out");
        try (DecoderLog log = DecoderLog.attach()) {
            new SummarizeJob(SummarizeJob.fileSource(documents, 256), SummarizeJob.fileSink(out),
                    JobFixtures.config(dir.resolve("cp")), new FailOnce(duringPrefill, duringDecoding)).execute();
            assertTrue(duringPrefill.fired(), "the failure during prefill was not injected");
            assertTrue(duringDecoding.fired(), "the failure during decoding was not injected");
            long resumed = log.count("resumed from state");
            long resumedInPrefill = log.lines.stream()
                    .filter(l -> l.contains("resumed from state") && l.contains("decoding=false")
                            && !l.contains("position=0 ")).count();
            System.out.printf("decoder log: %d documents resumed from state after restores (%d in prefill)%n",
                    resumed, resumedInPrefill);
            assertTrue(resumedInPrefill >= 1,
                    "no document continued its prefill from restored state; log: " + log.lines);
        }
        assertEquals(failureFree, JobFixtures.readOutput(out), "output after failures differs from the clean run");
    }

    @Test
    void shouldGiveIdenticalOutputWhenStoppedWithASavepointAndResumed(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        String savepoint;
        try (DecoderLog log = DecoderLog.attach()) {
            // NOTE: the first job watches the directory, so its source is still running when it is
            // stopped (a finished source would let the savepoint wait for every document); the
            // aligned savepoint barrier reaches the decoder behind the buffered chunks, so stopping
            // when the long document starts lands in the middle of it
            JobClient first = new SummarizeJob(SummarizeJob.fileSource(documents, 256, Duration.ofSeconds(1)),
                    SummarizeJob.fileSink(out), JobFixtures.config(dir.resolve("cp1"))).executeAsync();
            assertTrue(log.awaitLine("document long.txt started", Duration.ofMinutes(2)), "long.txt never started");
            savepoint = JobFixtures.stopWithSavepoint(first, dir.resolve("savepoints"));
        }
        Configuration resumed = JobFixtures.config(dir.resolve("cp2"));
        resumed.setString("execution.state-recovery.path", savepoint);
        try (DecoderLog log = DecoderLog.attach()) {
            new SummarizeJob(SummarizeJob.fileSource(documents, 256), SummarizeJob.fileSink(out), resumed).execute();
            assertTrue(log.count("resumed from state") >= 1,
                    "no document was in the middle when the savepoint was taken; log: " + log.lines);
        }
        assertEquals(failureFree, JobFixtures.readOutput(out), "output across the savepoint differs from one run");
    }
}
