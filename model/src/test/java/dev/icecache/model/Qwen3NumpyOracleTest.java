package dev.icecache.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.icecache.kvcache.FullCache;
import dev.icecache.model.synthetic.RandomModels;
import dev.icecache.model.synthetic.WeightTypes;
import dev.icecache.model.tensor.GgmlType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * qwen3 logits against an independent numpy implementation of the published Qwen 3 definition
 * ({@code src/test/python/qwen3_reference.py}, float64, its own GGUF parser), on random F32
 * models written here; the bundled llama.cpp does not know qwen3, so numpy is the oracle. Needs
 * python3 with numpy: without them the test fails when CI=true and is skipped elsewhere.
 */
class Qwen3NumpyOracleTest {

    /** Max absolute logit difference allowed, relative to the largest reference logit (float32 engine vs float64). */
    static final double TOLERANCE = 1e-4;
    private static final Path ORACLE = Path.of("src/test/python/qwen3_reference.py");
    private static final RandomModels.Shape SHAPE = new RandomModels.Shape(64, 96, 3, 4, 2, 400, 64);
    private static final int STEPS = 24;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void shouldEqualTheNumpyQwen3AtEveryStep(boolean tied) throws Exception {
        requireNumpy();
        Path file = dir.resolve("qwen3-" + (tied ? "tied" : "untied") + ".gguf");
        RandomModels.write(file, "qwen3", SHAPE, WeightTypes.uniform(GgmlType.F32), "F32", tied ? 17 : 18, tied);
        int[] tokens = new SplittableRandom(tied ? 5 : 6).ints(STEPS, 0, SHAPE.vocabSize()).toArray();
        float[][] want = numpy(file, tokens);
        try (LlamaModel model = LlamaModel.load(file, LoadOptions.defaults())) {
            assertEquals("qwen3", model.config().architecture());
            Session session = model.newSession(new FullCache(model.cacheShape()));
            double worstRelative = 0;
            for (int i = 0; i < tokens.length; i++) {
                float[] got = session.step(tokens[i]);
                double[] reference = new double[want[i].length];
                for (int j = 0; j < reference.length; j++) {
                    reference[j] = want[i][j];
                }
                RandomModelReferenceTest.assertClose(reference, got, TOLERANCE, "qwen3 tied=" + tied + " position " + i);
                worstRelative = Math.max(worstRelative, maxAbsDiff(reference, got) / maxAbs(reference));
            }
            System.out.printf("qwen3 tied=%s: %d positions, max |logit diff| / max |logit| = %.2e (tolerance %.0e)%n",
                    tied, tokens.length, worstRelative, TOLERANCE);
        }
    }

    /** Runs the oracle: one row of logits per position. */
    private float[][] numpy(Path model, int[] tokens) throws IOException, InterruptedException {
        Path out = dir.resolve("logits.f32");
        Path log = dir.resolve("oracle.log");
        String ids = IntStream.of(tokens).mapToObj(Integer::toString).collect(Collectors.joining(","));
        Process p = new ProcessBuilder("python3", ORACLE.toString(), model.toString(), ids, out.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the numpy oracle did not finish within 120 s");
        }
        assertEquals(0, p.exitValue(), () -> "numpy oracle failed: " + read(log));
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals((long) tokens.length * SHAPE.vocabSize() * Float.BYTES, bytes.capacity(), "oracle output size");
        float[][] rows = new float[tokens.length][SHAPE.vocabSize()];
        for (float[] row : rows) {
            bytes.asFloatBuffer().get(row);
            bytes.position(bytes.position() + row.length * Float.BYTES);
        }
        return rows;
    }

    /** python3 with numpy, or a skip (a failure under CI=true). */
    private static void requireNumpy() throws InterruptedException {
        String why;
        try {
            Process p = new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            why = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0 ? null : "python3 cannot import numpy";
        } catch (IOException e) {
            why = "python3 is not installed (" + e.getMessage() + ")";
        }
        if (why != null) {
            if ("true".equals(System.getenv("CI"))) {
                fail(why + "; install python3-numpy");
            }
            assumeTrue(false, why + "; skipping the numpy qwen3 oracle");
        }
        assertTrue(Files.isRegularFile(ORACLE), ORACLE + " is missing");
    }

    private static double maxAbsDiff(double[] a, float[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    private static String read(Path log) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8).replace('\n', '|');
        } catch (IOException e) {
            return "(no log)";
        }
    }
}
