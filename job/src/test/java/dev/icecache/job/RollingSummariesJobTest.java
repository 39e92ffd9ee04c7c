package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.icecache.job.JobFixtures.OutputLine;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rolling summaries through the whole job on a 2-slot MiniCluster with RocksDB and 200 ms
 * checkpoints: the pieces' kinds and coverage, and the same output after a failure injected
 * while a rolling summary streams out.
 */
class RollingSummariesJobTest {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2)
                    .build());

    private static final int EVERY = 256;

    @TempDir
    static Path shared;

    private static Path documents;
    private static Map<String, List<OutputLine>> failureFree;

    @BeforeAll
    static void runWithoutFailures() throws Exception {
        documents = JobFixtures.writeDocuments(shared.resolve("docs"));
        Files.delete(documents.resolve("medium.txt"));
        Path out = shared.resolve("out-clean");
        new SummarizeJob(SummarizeJob.fileSource(documents, 256), SummarizeJob.fileSink(out),
                config(shared.resolve("cp-clean"))).execute();
        failureFree = JobFixtures.readLines(out);
    }

    @Test
    void shouldEmitRollingSummariesAtEachIntervalThenTheFinalSummary() {
        assertEquals(List.of("long.txt", "short.txt"), List.copyOf(failureFree.keySet()));
        for (var e : failureFree.entrySet()) {
            List<OutputLine> lines = e.getValue();
            OutputLine last = lines.get(lines.size() - 1);
            assertEquals(last.tokensIn() - 1, last.upTo(), "the final summary covers the whole prompt (BOS excluded)");
            long previous = 0;
            boolean inFinal = false;
            List<Long> rollingUpTo = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                OutputLine l = lines.get(i);
                assertEquals(i, l.seq(), "pieces numbered 0, 1, 2, ... in " + e.getKey());
                assertEquals(i == lines.size() - 1, l.last(), "only the last piece is final in " + e.getKey());
                inFinal |= l.kind().equals("final");
                assertEquals(inFinal ? "final" : "rolling", l.kind(), "rolling pieces come first in " + e.getKey());
                assertTrue(l.upTo() >= previous, "up_to never goes back in " + e.getKey());
                if (l.kind().equals("rolling") && l.upTo() != previous) {
                    rollingUpTo.add(l.upTo());
                }
                previous = l.upTo();
            }
            // one rolling summary per interval passed, each at the first chunk boundary after its multiple
            for (int k = 0; k < rollingUpTo.size(); k++) {
                long upTo = rollingUpTo.get(k);
                assertTrue(upTo >= (long) (k + 1) * EVERY, e.getKey() + " rolling summaries at " + rollingUpTo);
            }
            long intervals = (last.upTo() - 1) / EVERY;
            assertTrue(rollingUpTo.size() >= Math.min(2, intervals) && rollingUpTo.size() <= intervals,
                    e.getKey() + ": " + rollingUpTo.size() + " rolling summaries for " + last.upTo() + " tokens at "
                            + rollingUpTo);
        }
        assertTrue(failureFree.get("long.txt").stream().map(OutputLine::upTo).distinct().count() >= 3,
                "long.txt has at least two rolling summaries and a final one");
    }

    @Test
    void shouldGiveIdenticalOutputWhenFailingDuringARollingSummary(@TempDir Path dir) throws Exception {
        // the middle rolling piece of the long document: late enough for a checkpoint to have completed
        List<OutputLine> rolling = failureFree.get("long.txt").stream().filter(l -> l.kind().equals("rolling"))
                .toList();
        OutputLine middle = rolling.get(rolling.size() / 2);
        FailOnce.Trigger duringRolling = new FailOnce.Trigger(dir.resolve("failed-in-rolling"),
                "\"doc\":\"long.txt\"", "\"seq\":" + middle.seq() + ",", "\"kind\":\"rolling\"");
        Path out = dir.resolve("out");
        new SummarizeJob(SummarizeJob.fileSource(documents, 256), SummarizeJob.fileSink(out),
                config(dir.resolve("cp")), new FailOnce(null, duringRolling)).execute();
        assertTrue(duringRolling.fired(), "the failure during a rolling summary was not injected");
        assertEquals(failureFree, JobFixtures.readLines(out), "output after the failure differs from the clean run");
    }

    private static Configuration config(Path checkpoints) {
        Configuration c = JobFixtures.config(checkpoints);
        c.setString("icecache.summary.rolling-every", Integer.toString(EVERY));
        c.setString("icecache.summary.rolling-max-tokens", "12");
        c.setString("icecache.decode.slice-tokens", "4");
        return c;
    }
}
