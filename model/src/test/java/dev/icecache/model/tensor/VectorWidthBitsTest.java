package dev.icecache.model.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * The dense kernels give the same bits at every vector width, so a document restored on a
 * machine with other vector hardware continues with the same tokens: {@link KernelBits} runs in
 * a fresh JVM per width (the width is a constant of the kernels, read once from
 * {@code icecache.vectorBitSize}) and every run must print what the scalar run prints. A width
 * the hardware lacks (512 bits on an AVX2 machine) still runs the kernels' code for that lane
 * count, on the Vector API's Java implementation of each lane; what it cannot check there is the
 * machine's own instructions at that width, which the machines that have them check. (It used to
 * fail under {@code CI=true} without 512-bit hardware, which made CI depend on the machine drawn.)
 */
class VectorWidthBitsTest {

    private static final int WIDEST = 512;

    @Test
    void shouldGiveTheScalarBitsAtEveryVectorWidth() throws Exception {
        List<String> scalar = run(0);
        assertEquals("lanes 16 parts 1 vector 0", scalar.get(0), "the scalar run must not use vectors");
        for (int bits = 128; bits <= WIDEST; bits *= 2) {
            List<String> got = run(bits);
            assertEquals("lanes " + bits / 32 + " parts " + 512 / bits + " vector " + bits, got.get(0),
                    "the run must use the width asked for");
            assertEquals(scalar.size(), got.size(), bits + "-bit run printed another number of lines");
            for (int i = 1; i < scalar.size(); i++) {
                assertEquals(scalar.get(i), got.get(i), bits + "-bit kernels differ from the scalar order");
            }
        }
    }

    @Test
    void shouldGiveTheBitsOfTheDotFromTheBatchedTileAndTheF32Tensor() {
        // in this JVM's width: the tile, the heap dot and the tensor dot share one order
        for (String line : KernelBits.lines()) {
            String[] f = line.substring(line.indexOf(':') + 2).split(" ");
            if (line.startsWith("dot ")) {
                assertEquals(f[1], f[0], line + ": vector dot vs scalar reference");
                assertEquals(f[0], f[2], line + ": F32 tensor dot vs heap dot");
            }
        }
        float[] a = Q8DotTest.randomVector(new java.util.SplittableRandom(5), 4 * 300);
        float[] x = Q8DotTest.randomVector(new java.util.SplittableRandom(6), 4 * 300);
        float[] out = new float[16];
        FixedLaneDot.dot4x4(a, 0, 300, x, 0, 300, 300, out, 0, 4, new float[FixedLaneDot.TILE_SCRATCH]);
        for (int j = 0; j < 4; j++) {
            for (int k = 0; k < 4; k++) {
                assertEquals(Float.floatToRawIntBits(FixedLaneDot.dot(a, j * 300, x, k * 300, 300)),
                        Float.floatToRawIntBits(out[k * 4 + j]), "tile product (" + j + ", " + k + ")");
            }
        }
    }

    private static List<String> run(int bits) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-Dicecache.vectorBitSize=" + bits,
                "-cp", System.getProperty("java.class.path"), KernelBits.class.getName())
                .redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "kernel run at " + bits + " bits did not end");
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "kernel run at " + bits + " bits failed: " + text);
        List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n")));
        lines.removeIf(l -> l.startsWith("WARNING") || l.isBlank());
        return lines;
    }
}
