package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
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
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;

    private static Path documents;
    private static Map<String, List<Line>> failureFree;

    /** One output line with every field that must survive a failure. */
    record Line(int seq, String text, boolean last, String kind, long upTo, long tokensIn, long tokensOut) {
    }

    @BeforeAll
    static void runWithoutFailures() throws Exception {
        documents = JobFixtures.writeDocuments(shared.resolve("docs"));
        Files.delete(documents.resolve("medium.txt"));
        Path out = shared.resolve("out-clean");
        new SummarizeJob(SummarizeJob.fileSource(documents, 256), SummarizeJob.fileSink(out),
                config(shared.resolve("cp-clean"))).execute();
        failureFree = read(out);
    }

    @Test
    void shouldEmitRollingSummariesAtEachIntervalThenTheFinalSummary() {
        assertEquals(List.of("long.txt", "short.txt"), List.copyOf(failureFree.keySet()));
        for (var e : failureFree.entrySet()) {
            List<Line> lines = e.getValue();
            Line last = lines.get(lines.size() - 1);
            assertEquals(last.tokensIn() - 1, last.upTo(), "the final summary covers the whole prompt (BOS excluded)");
            long previous = 0;
            boolean inFinal = false;
            List<Long> rollingUpTo = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                Line l = lines.get(i);
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
        assertTrue(failureFree.get("long.txt").stream().map(Line::upTo).distinct().count() >= 3,
                "long.txt has at least two rolling summaries and a final one");
    }

    @Test
    void shouldGiveIdenticalOutputWhenFailingDuringARollingSummary(@TempDir Path dir) throws Exception {
        // the middle rolling piece of the long document: late enough for a checkpoint to have completed
        List<Line> rolling = failureFree.get("long.txt").stream().filter(l -> l.kind().equals("rolling")).toList();
        Line middle = rolling.get(rolling.size() / 2);
        FailOnce.Trigger duringRolling = new FailOnce.Trigger(dir.resolve("failed-in-rolling"),
                "\"doc\":\"long.txt\"", "\"seq\":" + middle.seq() + ",", "\"kind\":\"rolling\"");
        Path out = dir.resolve("out");
        new SummarizeJob(SummarizeJob.fileSource(documents, 256), SummarizeJob.fileSink(out),
                config(dir.resolve("cp")), new FailOnce(null, duringRolling)).execute();
        assertTrue(duringRolling.fired(), "the failure during a rolling summary was not injected");
        assertEquals(failureFree, read(out), "output after the failure differs from the clean run");
    }

    private static Configuration config(Path checkpoints) {
        Configuration c = JobFixtures.config(checkpoints);
        c.setString("icecache.summary.rolling-every", Integer.toString(EVERY));
        c.setString("icecache.summary.rolling-max-tokens", "12");
        c.setString("icecache.decode.slice-tokens", "4");
        return c;
    }

    private static Map<String, List<Line>> read(Path outputDir) throws IOException {
        Map<String, List<Line>> byDoc = new TreeMap<>();
        try (Stream<Path> files = Files.walk(outputDir)) {
            for (Path f : files.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
                for (String text : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                    JsonNode n = JSON.readTree(text);
                    JsonNode stats = n.get("stats");
                    Line l = new Line(n.get("seq").asInt(), n.get("text").asText(), n.get("final").asBoolean(),
                            n.get("kind").asText(), n.get("up_to").asLong(),
                            stats == null ? 0 : stats.get("tokens_in").asLong(),
                            stats == null ? 0 : stats.get("tokens_out").asLong());
                    byDoc.computeIfAbsent(n.get("doc").asText(), d -> new ArrayList<>()).add(l);
                }
            }
        }
        byDoc.values().forEach(l -> l.sort((a, b) -> Integer.compare(a.seq(), b.seq())));
        return byDoc;
    }
}
