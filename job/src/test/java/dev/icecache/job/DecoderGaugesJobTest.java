package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decoder's gauges as a Flink metric reporter sees them on a MiniCluster: one document on
 * one decoder subtask, so the subtask's figures are the document's, which its finish line and
 * output report independently.
 */
class DecoderGaugesJobTest {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(1)
                    .setConfiguration(Configuration.fromMap(RecordingReporter.configure("1 h", null))).build());

    private static final Pattern FINISHED = Pattern.compile(
            "document medium.txt finished: tokens_in=(\\d+) tokens_out=(\\d+) pieces=\\d+ pages_moved=(\\d+)"
                    + " resident_hit_rate=([0-9.E-]+)");

    private static double gauge(String name) {
        List<Object> values = RecordingReporter.gaugeValues(name);
        assertEquals(1, values.size(), "one decoder subtask reports " + name + ": " + values);
        return (Double) values.get(0);
    }

    @Test
    void shouldReportTheDocumentsCacheFiguresAndTimeSharesThroughAReporter(@TempDir Path dir) throws Exception {
        Path docs = JobFixtures.writeDocuments(dir.resolve("docs"));
        Files.delete(docs.resolve("short.txt"));
        Files.delete(docs.resolve("long.txt"));
        Configuration config = JobFixtures.config(dir.resolve("cp"));
        config.setString("parallelism.default", "1");
        RecordingReporter.clear();
        Matcher finished;
        try (DecoderLog log = DecoderLog.attach()) {
            new SummarizeJob(SummarizeJob.fileSource(docs, 256), SummarizeJob.fileSink(dir.resolve("out")), config)
                    .execute();
            finished = log.lines.stream().map(FINISHED::matcher).filter(Matcher::find).findFirst()
                    .orElseThrow(() -> new AssertionError("no finish line: " + log.lines));
        }
        long tokensIn = Long.parseLong(finished.group(1));
        long tokensOut = Long.parseLong(finished.group(2));
        long pagesMoved = Long.parseLong(finished.group(3));
        assertEquals(tokensIn, RecordingReporter.counterSum("prefilledTokens"));
        assertEquals(tokensOut, RecordingReporter.counterSum("generatedTokens"));
        assertEquals(Double.parseDouble(finished.group(4)), gauge("residentHitRate"), 1e-12,
                "the subtask's hit rate is its only document's");
        double movedPerStep = gauge("pagesMovedPerStep");
        assertTrue(pagesMoved > 0 && movedPerStep > 0, "pages moved " + pagesMoved + ", per step " + movedPerStep);
        double shares = 0;
        for (String share : List.of("indexTimeShare", "moveTimeShare", "attentionTimeShare")) {
            double s = gauge(share);
            assertTrue(s > 0 && s < 1, share + " = " + s);
            shares += s;
        }
        assertTrue(shares <= 1, "time shares add up to " + shares);
        assertTrue(gauge("prefillTokensPerSecond") > 0, "prefill tokens/s");
        assertTrue(gauge("decodeTokensPerSecond") > 0, "decode tokens/s");
        Map<String, List<JobFixtures.Piece>> out = JobFixtures.readOutput(dir.resolve("out"));
        assertEquals(tokensOut, out.get("medium.txt").get(out.get("medium.txt").size() - 1).tokensOut());
    }
}
