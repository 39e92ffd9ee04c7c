package dev.icecache.bench.fidelity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.bench.BenchCli;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code bench fidelity} end to end on stories260K, and its one-line errors and exit codes. */
class FidelityCommandTest {

    private static final String HEADER = "policy,budget,top1_agreement,kl_mean,kl_p99,ppl_ratio,attention_recall,topk_recall";

    @TempDir
    Path dir;

    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = BenchCli.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        return cli.execute(args);
    }

    @Test
    void shouldMatchTheFullCacheExactlyForFullAndForIceCacheWhoseBudgetCoversTheText() throws IOException {
        Path model = SharedModels.require(SharedModels.STORIES_260K);
        Path csv = dir.resolve("out/fidelity.csv");
        Path markdown = dir.resolve("fidelity.md");
        int code = run("fidelity", "--model", model.toString(), "--context", "512", "--text", SharedModels.STORY.toString(),
                "--tokens", "160", "--policies", "FULL,ICECACHE", "--budgets", "64,160", "--page-format", "F32", "--csv", csv.toString(),
                "--markdown", markdown.toString(), "--paper-search");
        // the paper's search: its pages (cells of ~100 keys, filled 8..16 rows) all fit a 160-token
        // budget; the default short-context pages (about one Voronoi cell of 16 each, some half
        // full) may not, so a covering budget then does not attend everything (issue 18)
        assertEquals(0, code, err.toString());
        List<String> lines = Files.readAllLines(csv);
        assertTrue(lines.get(0).startsWith(HEADER + ","), lines.get(0));
        assertEquals(5, lines.size(), String.join("\n", lines));
        String[] columns = lines.get(0).split(",");
        Map<String, Map<String, String>> rows = new HashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.split(",");
            assertEquals(columns.length, cells.length, line);
            Map<String, String> row = new HashMap<>();
            for (int i = 0; i < columns.length; i++) {
                row.put(columns[i], cells[i]);
            }
            rows.put(cells[0] + "@" + cells[1], row);
        }
        for (String exact : new String[] {"FULL@64", "FULL@160", "ICECACHE@160"}) {
            Map<String, String> row = rows.get(exact);
            assertEquals(1.0, value(row, "top1_agreement"), exact);
            assertEquals(0.0, value(row, "kl_mean"), exact);
            assertEquals(0.0, value(row, "kl_p99"), exact);
            assertEquals(1.0, value(row, "ppl_ratio"), exact);
            assertEquals(1.0, value(row, "attention_recall"), 1e-9, exact);
            assertEquals(1.0, value(row, "topk_recall"), exact);
            assertEquals(160, value(row, "positions"), exact);
        }
        Map<String, String> sparse = rows.get("ICECACHE@64");
        assertEquals(96, value(sparse, "positions_over_budget"));
        // 64 of up to 160 cached positions: some softmax mass must be missed, none can be negative
        double recall = value(sparse, "attention_recall");
        assertTrue(recall > 0 && recall < 1, "attention_recall=" + recall);
        assertTrue(value(sparse, "attention_recall_over_budget") < recall, sparse.toString());
        assertTrue(value(sparse, "kl_mean") > 0, sparse.toString());
        String md = Files.readString(markdown);
        assertTrue(md.contains("| ICECACHE | 64 |") && md.contains("| FULL | 160 | 100.00% |"), md);
        assertEquals(4, err.toString().lines().filter(l -> l.startsWith("fidelity ")).count(), err.toString());
    }

    /** Prefill blocks are compared at every position, not only at block ends: the full cache exactly, at all 160. */
    @Test
    void shouldCompareEveryPositionOfAPrefillBlock() throws IOException {
        Path model = SharedModels.require(SharedModels.STORIES_260K);
        Path csv = dir.resolve("blocks.csv");
        int code = run("fidelity", "--model", model.toString(), "--context", "512", "--text", SharedModels.STORY.toString(),
                "--tokens", "160", "--policies", "FULL", "--budgets", "64", "--page-format", "F32", "--prefill-block", "16",
                "--csv", csv.toString());
        assertEquals(0, code, err.toString());
        List<String> lines = Files.readAllLines(csv);
        String[] columns = lines.get(0).split(",");
        String[] cells = lines.get(1).split(",");
        Map<String, String> row = new HashMap<>();
        for (int i = 0; i < columns.length; i++) {
            row.put(columns[i], cells[i]);
        }
        assertEquals(160, value(row, "positions"), row.toString());
        assertEquals(1.0, value(row, "top1_agreement"), row.toString());
        assertEquals(0.0, value(row, "kl_mean"), row.toString());
    }

    private static double value(Map<String, String> row, String column) {
        return Double.parseDouble(row.get(column));
    }

    @Test
    void shouldExitWithTwoNamingAnUnknownPolicy() throws IOException {
        Path text = Files.writeString(dir.resolve("t.txt"), "hi");
        assertEquals(2, run("fidelity", "--model", "m.gguf", "--text", text.toString(), "--tokens", "8",
                "--policies", "FULL,LRU", "--csv", dir.resolve("o.csv").toString()));
        assertEquals("icecache: --policies: unknown policy 'LRU'; use one of FULL,STREAMING,QUEST,ORACLE,ICECACHE,"
                + "ICECACHE_REUSE (see: icecache bench fidelity --help)" + System.lineSeparator(), err.toString());
    }

    @Test
    void shouldExitWithTwoWhenABudgetIsNotAMultipleOf16() {
        assertEquals(2, run("fidelity", "--model", "m.gguf", "--text", "t.txt", "--tokens", "8",
                "--budgets", "64,100", "--csv", dir.resolve("o.csv").toString()));
        assertEquals("icecache: --budgets: 100 must be a multiple of 16 and at least 48 (e.g. 64,128,256)"
                + " (see: icecache bench fidelity --help)" + System.lineSeparator(), err.toString());
    }

    @Test
    void shouldExitWithOneWhenTheTextIsMissing() {
        Path missing = dir.resolve("missing.txt");
        assertEquals(1, run("fidelity", "--model", "m.gguf", "--text", missing.toString(), "--tokens", "8",
                "--csv", dir.resolve("o.csv").toString()));
        assertEquals("icecache: file not found: " + missing + System.lineSeparator(), err.toString());
    }

    @Test
    void shouldExitWithOneWhenTheModelIsMissing() throws IOException {
        Path text = Files.writeString(dir.resolve("t.txt"), "hi");
        Path missing = dir.resolve("missing.gguf");
        assertEquals(1, run("fidelity", "--model", missing.toString(), "--text", text.toString(), "--tokens", "8",
                "--csv", dir.resolve("o.csv").toString()));
        assertEquals("icecache: file not found: " + missing + System.lineSeparator(), err.toString());
    }

    @Test
    void shouldExitWithOneWhenTheTextIsShorterThanTheTokensAsked() throws IOException {
        Path model = SharedModels.require(SharedModels.STORIES_260K);
        Path text = Files.writeString(dir.resolve("t.txt"), "Once upon a time");
        assertEquals(1, run("fidelity", "--model", model.toString(), "--context", "512", "--text", text.toString(),
                "--tokens", "100", "--csv", dir.resolve("o.csv").toString()));
        String line = err.toString();
        assertTrue(line.startsWith("icecache: text " + text + " has ") && line.contains("fewer than --tokens=100"), line);
        assertEquals(1, line.lines().count(), line);
    }
}
