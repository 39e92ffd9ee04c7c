package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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

import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.operators.tokenize.PromptTemplate;
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
 * Documents longer than the context through the whole job on a 2-slot MiniCluster with RocksDB
 * and 200 ms checkpoints, in refine and map-reduce: segment pieces in order, a final summary,
 * every token read once, and the same output after a failure injected in the middle of a
 * segment prefill, of a segment summary and of a reduce step.
 */
class OverflowJobTest {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2)
                    .build());

    private static final int CONTEXT = 512;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;

    private static Path documents;
    private static Map<String, List<Line>> refine;
    private static Map<String, List<Line>> mapReduce;

    /** One output line with every field that must survive a failure. */
    record Line(int seq, String text, boolean last, String kind, long upTo, long tokensIn, long tokensOut,
                int segments, String error) {
    }

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
        for (Map<String, List<Line>> out : List.of(refine, mapReduce)) {
            assertEquals(List.of("long.txt", "short.txt"), List.copyOf(out.keySet()));
            for (var e : out.entrySet()) {
                List<Line> lines = e.getValue();
                Line last = lines.get(lines.size() - 1);
                String text = Files.readString(documents.resolve(e.getKey()), StandardCharsets.UTF_8);
                int tokens = model.tokenizer().encode(PromptTemplate.parse(JobFixtures.PROMPT).apply(text)).length;
                assertEquals(tokens + 1, last.tokensIn(), e.getKey() + ": tokens read = the document's, BOS included");
                boolean segmented = e.getKey().equals("long.txt");
                assertEquals(segmented, last.segments() > 0, e.getKey() + " read in segments: " + last);
                long previous = 0;
                boolean inFinal = false;
                for (int i = 0; i < lines.size(); i++) {
                    Line l = lines.get(i);
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
                    assertTrue(lines.stream().map(Line::upTo).distinct().count() >= 3, "several segments: " + lines);
                }
            }
        }
        assertTrue(reduceSteps(mapReduce.get("long.txt")).size() >= 2, "map-reduce had reduce steps before the final summary");
    }

    @Test
    void shouldGiveIdenticalOutputWhenFailingInTheMiddleOfASegmentPrefill(@TempDir Path dir) throws Exception {
        // the piece that ends a middle segment summary: the next segment is being prefilled when the failure lands
        List<Line> segment = segmentPieces(refine.get("long.txt"));
        Line endOfMiddle = segment.get(segment.size() / 2);
        for (Line l : segment) {
            if (l.upTo() == endOfMiddle.upTo()) {
                endOfMiddle = l;
            }
        }
        checkFailure(dir, "refine", refine, endOfMiddle);
    }

    @Test
    void shouldGiveIdenticalOutputWhenFailingInTheMiddleOfASegmentSummary(@TempDir Path dir) throws Exception {
        List<Line> segment = segmentPieces(refine.get("long.txt"));
        Line middle = segment.get(segment.size() / 2);
        for (Line l : segment) {
            if (l.upTo() == middle.upTo()) {
                middle = l; // the first piece of that summary: more of it follows
                break;
            }
        }
        checkFailure(dir, "refine", refine, middle);
    }

    @Test
    void shouldGiveIdenticalOutputWhenFailingInTheMiddleOfAReduceStep(@TempDir Path dir) throws Exception {
        checkFailure(dir, "map-reduce", mapReduce, reduceSteps(mapReduce.get("long.txt")).get(0));
    }

    private static void checkFailure(Path dir, String mode, Map<String, List<Line>> failureFree, Line at)
            throws Exception {
        FailOnce.Trigger trigger = new FailOnce.Trigger(dir.resolve("failed"), "\"doc\":\"long.txt\"",
                "\"seq\":" + at.seq() + ",");
        assertEquals(failureFree, run(mode, dir, new FailOnce(null, trigger)), "output after a failure at " + at);
        assertTrue(trigger.fired(), "the failure at " + at + " was not injected");
    }

    /** The segment pieces of a document. */
    private static List<Line> segmentPieces(List<Line> lines) {
        return lines.stream().filter(l -> l.kind().equals("segment")).toList();
    }

    /** Map-reduce: the segment pieces of reduce steps (they have read the whole document). */
    private static List<Line> reduceSteps(List<Line> lines) {
        long all = lines.get(lines.size() - 1).upTo();
        return segmentPieces(lines).stream().filter(l -> l.upTo() == all).toList();
    }

    private static Map<String, List<Line>> run(String mode, Path dir, FailOnce failures) throws Exception {
        Configuration c = JobFixtures.config(dir.resolve("cp"));
        c.setString("icecache.model.context", Integer.toString(CONTEXT));
        c.setString("icecache.generate.max-tokens", "24");
        c.setString("icecache.decode.slice-tokens", "4");
        c.setString("icecache.summary.overflow", mode);
        if (mode.equals("map-reduce")) {
            c.setString("icecache.summary.segment-tokens", "100"); // about 25 segments: two levels of reduce steps
        }
        Path out = dir.resolve("out");
        SummarizeJob job = failures == null
                ? new SummarizeJob(SummarizeJob.fileSource(documents, 256), SummarizeJob.fileSink(out), c)
                : new SummarizeJob(SummarizeJob.fileSource(documents, 256), SummarizeJob.fileSink(out), c, failures);
        job.execute();
        return read(out);
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
                            n.has("kind") ? n.get("kind").asText() : "", n.has("up_to") ? n.get("up_to").asLong() : 0,
                            stats == null ? 0 : stats.get("tokens_in").asLong(),
                            stats == null ? 0 : stats.get("tokens_out").asLong(),
                            stats == null || !stats.has("segments") ? 0 : stats.get("segments").asInt(),
                            n.has("error") ? n.get("error").asText() : null);
                    byDoc.computeIfAbsent(n.get("doc").asText(), d -> new ArrayList<>()).add(l);
                }
            }
        }
        byDoc.values().forEach(l -> l.sort((a, b) -> Integer.compare(a.seq(), b.seq())));
        return byDoc;
    }
}
