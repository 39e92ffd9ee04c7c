package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.icecache.job.JobFixtures.OutputLine;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.operators.tokenize.PromptTemplate;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Documents longer than the context through the whole job on a 2-slot MiniCluster with RocksDB
 * and 200 ms checkpoints, in refine and map-reduce: segment pieces in order, a final summary,
 * every token read once, and the same output after a failure injected in the middle of a
 * segment prefill, of a segment summary and of a reduce step; {@code inspect-state} on a
 * savepoint taken after the first segment.
 */
class OverflowJobTest {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2)
                    .build());

    private static final int CONTEXT = 512;
    private static final int MAX_TOKENS = 24;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;

    private static Path documents;
    private static Map<String, List<OutputLine>> refine;
    private static Map<String, List<OutputLine>> mapReduce;

    @BeforeAll
    static void runWithoutFailures() throws Exception {
        documents = JobFixtures.writeDocuments(shared.resolve("docs"));
        Files.delete(documents.resolve("medium.txt"));
        refine = run("refine", shared.resolve("refine"), null);
        mapReduce = run("map-reduce", shared.resolve("map-reduce"), null);
    }

    @Test
    void shouldReadTheLongDocumentInSegmentsAndEveryTokenOnce() throws Exception {
        LlamaModel model = LlamaModel.load(JobFixtures.model(), new LoadOptions(null, CONTEXT));
        for (Map<String, List<OutputLine>> out : List.of(refine, mapReduce)) {
            assertEquals(List.of("long.txt", "short.txt"), List.copyOf(out.keySet()));
            for (var e : out.entrySet()) {
                List<OutputLine> lines = e.getValue();
                OutputLine last = lines.get(lines.size() - 1);
                String text = Files.readString(documents.resolve(e.getKey()), StandardCharsets.UTF_8);
                int tokens = model.tokenizer().encode(PromptTemplate.parse(JobFixtures.PROMPT).apply(text)).length;
                assertEquals(tokens + 1, last.tokensIn(), e.getKey() + ": tokens read = the document's, BOS included");
                boolean segmented = tokens + 1 + MAX_TOKENS > CONTEXT; // both are, at this context
                assertEquals(e.getKey().equals("long.txt") || segmented, segmented);
                assertEquals(segmented, last.segments() > 0, e.getKey() + " read in segments: " + last);
                long previous = 0;
                boolean inFinal = false;
                for (int i = 0; i < lines.size(); i++) {
                    OutputLine l = lines.get(i);
                    assertEquals(i, l.seq(), "pieces numbered 0, 1, 2, ... in " + e.getKey());
                    assertEquals(i == lines.size() - 1, l.last(), "only the last piece is final in " + e.getKey());
                    assertNull(l.error(), e.getKey());
                    inFinal |= l.kind().equals("final");
                    String kind = !segmented ? "" : inFinal ? "final" : "segment";
                    assertEquals(kind, l.kind(), "segment pieces, then the final summary's in " + e.getKey());
                    assertTrue(l.upTo() >= previous, "up_to never goes back in " + e.getKey());
                    previous = l.upTo();
                }
                if (segmented) {
                    assertEquals(tokens, last.upTo(), "the final summary has read the whole document");
                    long summaries = lines.stream().map(OutputLine::upTo).distinct().count();
                    assertTrue(summaries >= (e.getKey().equals("long.txt") ? 3 : 2), "segments: " + lines);
                }
            }
        }
        assertTrue(reduceSteps(mapReduce.get("long.txt")).size() >= 2,
                "map-reduce had reduce steps before the final summary");
    }

    @Test
    void shouldGiveIdenticalOutputWhenFailingInTheMiddleOfASegmentPrefill(@TempDir Path dir) throws Exception {
        // the piece that ends a middle segment summary: the next segment is being prefilled when the failure lands
        List<OutputLine> middle = middleSegmentSummary();
        OutputLine endOfMiddle = middle.get(middle.size() - 1);
        checkFailure(dir, "refine", refine, endOfMiddle);
    }

    @Test
    void shouldGiveIdenticalOutputWhenFailingInTheMiddleOfASegmentSummary(@TempDir Path dir) throws Exception {
        // the first piece of a middle segment summary: more of it follows
        checkFailure(dir, "refine", refine, middleSegmentSummary().get(0));
    }

    @Test
    void shouldGiveIdenticalOutputWhenFailingInTheMiddleOfAReduceStep(@TempDir Path dir) throws Exception {
        checkFailure(dir, "map-reduce", mapReduce, reduceSteps(mapReduce.get("long.txt")).get(0));
    }

    @Test
    void shouldShowTheSegmentAndPhaseInInspectState(@TempDir Path dir) throws Exception {
        Path savepoint;
        Configuration c = config("refine", dir);
        // five times long.txt (about 35 segments), so that it is still being read at the savepoint
        Path book = Files.createDirectories(dir.resolve("book"));
        Files.writeString(book.resolve("long.txt"), Files.readString(documents.resolve("long.txt")).repeat(5));
        try (DecoderLog log = DecoderLog.attach()) {
            // the source watches the directory so it is still running when stopped
            JobClient job = new SummarizeJob(SummarizeJob.fileSource(book, 256, Duration.ofSeconds(1)),
                    SummarizeJob.fileSink(dir.resolve("out")), c).executeAsync();
            assertTrue(log.awaitLine("document long.txt context restarted", Duration.ofMinutes(2)),
                    "long.txt never reached its second segment");
            savepoint = Path.of(java.net.URI.create(JobFixtures.stopWithSavepoint(job, dir.resolve("savepoints"))));
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cli = IceCacheCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        assertEquals(0, cli.execute("inspect-state", savepoint.toString(), "--json"), err.toString());
        JsonNode state = JSON.readTree(out.toString());
        String segment = null;
        for (JsonNode d : state.get("documents")) {
            if (d.get("doc").asText().equals("long.txt")) {
                segment = d.has("segment") ? d.get("segment").asText() : "";
            }
        }
        assertTrue(segment != null && segment.matches("segment [1-9]\\d* (reading|closing)"),
                "long.txt's segment in " + out);
        out.getBuffer().setLength(0);
        assertEquals(0, cli.execute("inspect-state", savepoint.toString(), "--doc", "long.txt"), err.toString());
        assertTrue(out.toString().contains("segment (document longer than the context)")
                && out.toString().contains(segment), out.toString());
    }

    private static void checkFailure(Path dir, String mode, Map<String, List<OutputLine>> failureFree, OutputLine at)
            throws Exception {
        FailOnce.Trigger trigger = new FailOnce.Trigger(dir.resolve("failed"), "\"doc\":\"long.txt\"",
                "\"seq\":" + at.seq() + ",");
        assertEquals(failureFree, run(mode, dir, new FailOnce(null, trigger)), "output after a failure at " + at);
        assertTrue(trigger.fired(), "the failure at " + at + " was not injected");
    }

    /** The pieces of a middle segment summary of long.txt in refine. */
    private static List<OutputLine> middleSegmentSummary() {
        List<OutputLine> segment = segmentPieces(refine.get("long.txt"));
        long upTo = segment.get(segment.size() / 2).upTo();
        return segment.stream().filter(l -> l.upTo() == upTo).toList();
    }

    /** The segment pieces of a document. */
    private static List<OutputLine> segmentPieces(List<OutputLine> lines) {
        return lines.stream().filter(l -> l.kind().equals("segment")).toList();
    }

    /** Map-reduce: the segment pieces of reduce steps (they have read the whole document). */
    private static List<OutputLine> reduceSteps(List<OutputLine> lines) {
        long all = lines.get(lines.size() - 1).upTo();
        return segmentPieces(lines).stream().filter(l -> l.upTo() == all).toList();
    }

    private static Map<String, List<OutputLine>> run(String mode, Path dir, FailOnce failures) throws Exception {
        Configuration c = config(mode, dir);
        Path out = dir.resolve("out");
        SummarizeJob job = failures == null
                ? new SummarizeJob(SummarizeJob.fileSource(documents, 256), SummarizeJob.fileSink(out), c)
                : new SummarizeJob(SummarizeJob.fileSource(documents, 256), SummarizeJob.fileSink(out), c, failures);
        job.execute();
        return JobFixtures.readLines(out);
    }

    private static Configuration config(String mode, Path dir) {
        Configuration c = JobFixtures.config(dir.resolve("cp"));
        c.setString("icecache.model.context", Integer.toString(CONTEXT));
        c.setString("icecache.generate.max-tokens", Integer.toString(MAX_TOKENS));
        c.setString("icecache.decode.slice-tokens", "4");
        c.setString("icecache.summary.overflow", mode);
        if (mode.equals("map-reduce")) {
            c.setString("icecache.summary.segment-tokens", "100"); // about 25 segments: two levels of reduce steps
        }
        return c;
    }
}
