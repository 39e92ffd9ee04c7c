package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

/** Exit codes and one-line errors of {@code icecache generate}. */
class GenerateCommandTest {

    @TempDir
    Path dir;

    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = IceCacheCli.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        return cli.execute(args);
    }

    @Test
    void shouldPrintTheStories260kReferenceTextGreedily() throws IOException {
        Path models = Path.of(System.getProperty("icecache.models.dir", "../../shared/models"));
        Path gguf = models.resolve("stories260K/stories260Ktok512.gguf");
        Path reference = models.resolve("stories260K/reference-greedy.txt");
        if (!Files.isRegularFile(gguf) || !Files.isRegularFile(reference)) {
            String msg = "shared model files missing under " + models;
            org.junit.jupiter.api.Assertions.assertNotEquals("true", System.getenv("CI"), msg);
            org.junit.jupiter.api.Assumptions.assumeTrue(false, msg);
        }
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stdout = System.out;
        System.setOut(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        int code;
        try {
            code = run("generate", "--model", gguf.toString(), "--context", "512", "--max-tokens", "200");
        } finally {
            System.setOut(stdout);
        }
        assertEquals(0, code, err.toString());
        assertEquals(Files.readString(reference) + System.lineSeparator(), captured.toString(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void shouldExitWithOneAndOneLineWhenModelFileIsMissing() {
        Path missing = dir.resolve("nope.gguf");
        assertEquals(1, run("generate", "--model", missing.toString(), "--prompt", "hi"));
        assertEquals("icecache: file not found: " + missing + System.lineSeparator(), err.toString());
    }

    @Test
    void shouldExitWithOneNamingTheFileWhenModelIsCorrupt() throws IOException {
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0});
        assertEquals(1, run("generate", "--model", bad.toString()));
        String text = err.toString();
        assertTrue(text.startsWith("icecache: " + bad + ": GGUF tensor_count"), text);
        assertEquals(1, text.lines().count(), text);
    }

    @Test
    void shouldExitWithTwoOnOutOfRangeOption() throws IOException {
        Path model = Files.createFile(dir.resolve("m.gguf"));
        assertEquals(2, run("generate", "--model", model.toString(), "--top-p", "1.5"));
        assertEquals("icecache: --top-p=1.5 must be within (0, 1] (see: icecache generate --help)" + System.lineSeparator(),
                err.toString());
    }

    @Test
    void shouldAdvisePromptInOneLineWhenTheModelHasNoChatTemplate() throws IOException {
        Path model = dir.resolve("no-template.gguf");
        dev.icecache.model.synthetic.RandomModels.write(model, new dev.icecache.model.synthetic.RandomModels.Shape(
                32, 64, 1, 2, 1, 360, 16), dev.icecache.model.tensor.GgmlType.F32, 1, true);
        assertEquals(1, run("generate", "--model", model.toString(), "--chat", "--prompt", "hi"));
        String text = err.toString();
        assertTrue(text.startsWith("icecache: model '") && text.contains("has no chat template")
                && text.contains("--prompt instead of --chat"), text);
        assertEquals(1, text.lines().count(), text);
    }

    @Test
    void shouldRefuseSystemWithoutChat() throws IOException {
        Path model = Files.createFile(dir.resolve("m.gguf"));
        assertEquals(2, run("generate", "--model", model.toString(), "--system", "be brief", "--prompt", "hi"));
        assertTrue(err.toString().startsWith("icecache: --system needs --chat"), err.toString());
    }

    @Test
    void shouldExitWithTwoOnUnknownOptionOrMissingModel() {
        assertEquals(2, run("generate", "--modle", "x"));
        assertEquals(2, run("generate", "--prompt", "x"));
        assertEquals(2, run("generate", "--model", "m", "--max-tokens", "many"));
        assertEquals(3, err.toString().lines().count(), "one line per error: " + err);
    }
}
