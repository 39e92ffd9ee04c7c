package dev.icecache.bench.retrieval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.bench.BenchCli;
import dev.icecache.bench.fidelity.SharedModels;
import dev.icecache.kvcache.FullCache;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Session;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code bench retrieval} end to end on stories260K, and its one-line errors and exit codes. */
class RetrievalCommandTest {

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
    void shouldReportFullsExactMatchAsTheEngineDecodesAndWriteCsvPlotsAndMarkdown() throws IOException {
        Path model = SharedModels.require(SharedModels.STORIES_260K);
        Path csv = dir.resolve("out/retrieval.csv");
        Path markdown = dir.resolve("retrieval.md");
        int code = run("retrieval", "--model", model.toString(), "--context", "512", "--filler", SharedModels.STORY.toString(),
                "--lengths", "200,300", "--depths", "0,50,100", "--keys", "1,2", "--trials", "2", "--seed", "3",
                "--policies", "FULL,STREAMING", "--budgets", "64,128", "--csv", csv.toString(), "--markdown", markdown.toString());
        assertEquals(0, code, err.toString());
        List<String> lines = Files.readAllLines(csv);
        assertEquals(String.join(",", RetrievalReport.CSV_COLUMNS), lines.get(0));
        // (FULL once + STREAMING at 2 budgets) x 2 lengths x 3 depths x 2 key counts
        assertEquals(1 + 3 * 2 * 3 * 2, lines.size(), String.join("\n", lines));
        Map<String, Double> fullExact = new HashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] c = line.split(",");
            assertEquals("2", c[5], line);
            if (c[0].equals("FULL")) {
                assertEquals("0", c[1], line);
                assertEquals(1.0, Double.parseDouble(c[7]), line);
                assertEquals(1.0, Double.parseDouble(c[8]), line);
                fullExact.put(c[2] + "/" + c[3] + "/" + c[4], Double.parseDouble(c[6]));
            }
        }
        assertEquals(12, fullExact.size(), fullExact.toString());
        try (LlamaModel llama = LlamaModel.load(model, new LoadOptions(null, 512))) {
            HaystackGenerator generator = new HaystackGenerator(llama.tokenizer(),
                    Files.readString(SharedModels.STORY, StandardCharsets.UTF_8), 512);
            for (Map.Entry<String, Double> e : fullExact.entrySet()) {
                String[] k = e.getKey().split("/");
                int length = Integer.parseInt(k[0]);
                int depth = Integer.parseInt(k[1]);
                int keys = Integer.parseInt(k[2]);
                int exact = 0;
                for (int trial = 0; trial < 2; trial++) {
                    Haystack h = generator.generate(length, depth, keys, HaystackGenerator.trialSeed(3, length, depth, keys, trial));
                    exact += Arrays.equals(engineAnswer(llama, h), h.answer()) ? 1 : 0;
                }
                assertEquals(exact / 2.0, e.getValue(), e.getKey());
            }
        }
        assertTrue(Files.size(dir.resolve("out/retrieval-fetch-64.png")) > 0);
        assertTrue(Files.size(dir.resolve("out/retrieval-fetch-128.png")) > 0);
        String md = Files.readString(markdown);
        assertTrue(md.startsWith("\n### retrieval: stories260Ktok512.gguf, filler lily-and-the-lost-kite.txt\n"), md);
        assertTrue(md.contains("| policy | budget | exact | = Full | fetch | depth 0% | depth 50% | depth 100% | 200 tok |"
                + " 300 tok | passkey | 2 keys | fetched all |"), md);
        assertTrue(md.contains("| FULL | all | ") && md.contains("| STREAMING | 64 | ") && md.contains("| STREAMING | 128 | "), md);
        assertTrue(md.contains("- command: `bin/icecache bench retrieval --model "), md);
    }

    /** Full decoding with the engine alone: the whole prompt in one prefill on a FullCache, then argmax. */
    private static int[] engineAnswer(LlamaModel llama, Haystack h) {
        Session session = llama.newSession(new FullCache(llama.cacheShape()));
        float[] logits = session.prefill(h.prompt(), 0, h.length(), true);
        int[] answer = new int[h.answer().length];
        for (int i = 0; i < answer.length; i++) {
            int best = 0;
            for (int t = 1; t < logits.length; t++) {
                best = logits[t] > logits[best] ? t : best;
            }
            answer[i] = best;
            if (i + 1 < answer.length) {
                logits = session.step(best);
            }
        }
        return answer;
    }

    @Test
    void shouldExitWithOneWhenALengthAndItsAnswerExceedTheContext() throws IOException {
        Path model = SharedModels.require(SharedModels.STORIES_260K);
        assertEquals(1, run("retrieval", "--model", model.toString(), "--context", "512", "--filler",
                SharedModels.STORY.toString(), "--lengths", "200,510", "--csv", dir.resolve("o.csv").toString()));
        assertEquals("icecache: --lengths: length=510 plus the answer's 6 tokens exceeds the context length=512;"
                + " use lengths <= 506" + System.lineSeparator(), err.toString());
        assertTrue(Files.notExists(dir.resolve("o.csv")));
    }

    @Test
    void shouldExitWithTwoNamingADepthOutsideZeroToHundred() {
        assertEquals(2, run("retrieval", "--model", "m.gguf", "--depths", "0,120", "--csv", dir.resolve("o.csv").toString()));
        assertEquals("icecache: --depths: 120 must be within [0, 100] (percent) (see: icecache bench retrieval --help)"
                + System.lineSeparator(), err.toString());
    }

    @Test
    void shouldExitWithTwoForABudgetWithoutRoomForOneSelectedPage() {
        assertEquals(2, run("retrieval", "--model", "m.gguf", "--budgets", "32,64", "--csv", dir.resolve("o.csv").toString()));
        assertEquals("icecache: --budgets: 32 must be a multiple of 16 and at least 48 (e.g. 64,128,256)"
                + " (see: icecache bench retrieval --help)" + System.lineSeparator(), err.toString());
    }

    @Test
    void shouldExitWithTwoNamingAnUnknownPolicy() {
        assertEquals(2, run("retrieval", "--model", "m.gguf", "--policies", "FULL,LRU", "--csv", dir.resolve("o.csv").toString()));
        assertTrue(err.toString().startsWith("icecache: --policies: unknown policy 'LRU'; use one of FULL,"), err.toString());
    }

    @Test
    void shouldExitWithOneWhenTheFillerIsMissing() {
        Path missing = dir.resolve("missing.txt");
        assertEquals(1, run("retrieval", "--model", "m.gguf", "--filler", missing.toString(), "--csv",
                dir.resolve("o.csv").toString()));
        assertEquals("icecache: file not found: " + missing + System.lineSeparator(), err.toString());
    }
}
