package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.icecache.model.gguf.GgufFile;
import dev.icecache.model.gguf.GgufTensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code icecache inspect-model} on stories260K, whose shape the shared models' README documents. */
class InspectModelCommandTest {

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = IceCacheCli.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(out, true));
        return cli.execute(args);
    }

    private List<String> lines() {
        return out.toString().lines().toList();
    }

    @Test
    void shouldDescribeStories260kShapeVocabularyAndContext() {
        Path model = JobFixtures.model();
        assertEquals(0, run("inspect-model", model.toString(), "--context", "512"), err.toString());
        // shape and vocabulary as listed in ../shared/models/README.md
        assertTrue(lines().contains("shape:      dim=64 hidden=172 layers=5 heads=8 kv_heads=4 head_dim=8 vocab=512"), out.toString());
        assertTrue(lines().contains("context:    512 (from --context; the file says 128)"), out.toString());
        assertTrue(lines().contains(
                "vocabulary: SentencePiece (llama), 512 tokens, bos=1 \"<s>\" eos=2 \"</s>\" unk=0 \"<unk>\", add_bos=true"),
                out.toString());
    }

    @Test
    void shouldGiveKvBytesPerTokenAndMemoryAtTheContext() {
        Path model = JobFixtures.model();
        assertEquals(0, run("inspect-model", model.toString(), "--context", "512"), err.toString());
        // 2 (K, V) x 5 layers x 4 KV heads x 8 floats x 4 bytes = 1280; BF16 half of it
        assertTrue(lines().contains("KV cache:   1,280 bytes/token as F32, 640 as BF16 (K and V, all layers)"), out.toString());
        // 512 x 1280 = 655,360 B
        assertTrue(lines().contains("  full KV cache, F32           640.0 KiB (655,360 B)"), out.toString());
        // 2 dense layers x 512 x 256 B + 3 sparse layers x 256 budget x 256 B = 458,752 B
        assertTrue(out.toString().contains("  IceCache resident, F32       448.0 KiB (458,752 B) (budget 256 tokens, 2 dense"),
                out.toString());
        // heap: 2 dense layers x 4 KV heads x 32 B of BF16 rows + 3 sparse layers x 4 trees x (8 code bytes
        // + 4 scale + 44 metadata) B = 928 B/token
        assertTrue(out.toString().contains("  IceCache live document heap  464.0 KiB (475,136 B) (928 bytes/token"),
                out.toString());
        // state: 640 B of BF16 K and V + 20 page headers' share + 3 x 4 trees x (4 + 1 + 4 + 8 + 4) B = 912 B/token
        assertTrue(out.toString().contains("(466,944 B) (912 bytes/token: pages and index keys"), out.toString());
    }

    @Test
    void shouldShowArchitectureAndTypeMixOfAQwenQ4KMModel(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path model = dir.resolve("qwen2-q4km.gguf");
        // 256-wide rows: Q4_K, Q6_K for the classifier and attn_v/ffn_down of the last block; norms and biases F32
        dev.icecache.model.synthetic.RandomModels.write(model, "qwen2",
                new dev.icecache.model.synthetic.RandomModels.Shape(256, 256, 2, 4, 2, 400, 64),
                dev.icecache.model.synthetic.WeightTypes.q4KM(), "Q4_K_M", 1, false);
        assertEquals(0, run("inspect-model", model.toString(), "--no-tensors"), err.toString());
        assertTrue(out.toString().startsWith("model:      random-qwen2-256x2-Q4_K_M (qwen2, GGUF v3)"), out.toString());
        assertTrue(lines().contains("attention:  q/k/v biases (qwen2)"), out.toString());
        assertTrue(lines().contains("types:      Q4_K x 13, F32 x 11, Q6_K x 3"), out.toString());
        assertTrue(lines().stream().anyMatch(l -> l.startsWith("rope:       theta=1000000.0") && l.endsWith("NeoX")),
                out.toString());
    }

    @Test
    void shouldListEveryTensorAndCountParametersAsTheTensorsHold() throws IOException {
        Path model = JobFixtures.model();
        assertEquals(0, run("inspect-model", model.toString()), err.toString());
        GgufFile gguf = GgufFile.read(model);
        long elements = 0;
        for (GgufTensorInfo t : gguf.tensors().values()) {
            elements += t.elementCount();
            String name = t.name();
            assertTrue(lines().stream().anyMatch(l -> l.startsWith("  " + name + " ") && l.contains(" F32 ")
                    && l.endsWith(String.format(java.util.Locale.ROOT, "%,d", t.byteSize()))), name + "\n" + out);
        }
        assertTrue(lines().contains("tensors (" + gguf.tensors().size() + "):"), out.toString());
        assertTrue(lines().contains("types:      F32 x " + gguf.tensors().size()), out.toString());
        assertTrue(lines().contains("chat:       no template (tokenizer.chat_template absent): use --prompt"), out.toString());
        assertTrue(lines().contains("attention:  plain (llama)"), out.toString());
        String params = String.format(java.util.Locale.ROOT, "weights:    F32, %,d parameters", elements);
        assertTrue(lines().stream().anyMatch(l -> l.startsWith(params)), params + "\n" + out);
    }

    @Test
    void shouldExitWithOneWhenTheFileIsNotAModel() throws IOException {
        Path junk = Files.writeString(dir.resolve("junk.gguf"), "this is not a model at all, just some text");
        assertEquals(1, run("inspect-model", junk.toString()));
        assertTrue(err.toString().startsWith("icecache: "), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
    }

    @Test
    void shouldExitWithTwoWhenTheBudgetIsNotAMultipleOfSixteen() {
        assertEquals(2, run("inspect-model", "model.gguf", "--budget", "100"));
        assertTrue(err.toString().contains("--budget=100"), err.toString());
    }
}
