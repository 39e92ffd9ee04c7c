package dev.icecache.kvcache.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.FullCache;
import dev.icecache.kvcache.HeadAttention;
import dev.icecache.kvcache.page.PageFormat;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * {@link BlockAttention} (rows or dimensions in vector lanes) against {@link HeadAttention#attend} (one
 * query at a time, the contract's reference): identical bits for every query of prefill blocks
 * and decode steps through {@link FullCache}, for head sizes with and without an 8- or 16-wide
 * tail, groups smaller and larger than a tile, rows past a value block, and (in child JVMs) at
 * 128- and 256-bit vectors and without vectors.
 */
class BlockAttentionTest {

    /** Head size, heads per KV head, query heads, positions: odd sizes, tails, groups past a tile, long blocks. */
    static final String[] CASES = {"64, 4, 32, 200", "64, 1, 8, 200", "12, 3, 6, 200", "5, 2, 2, 200", "24, 8, 8, 200",
        "128, 2, 8, 200", "16, 16, 16, 200", "9, 20, 20, 200", "64, 4, 8, 600", "128, 3, 6, 300"};

    static Stream<Arguments> cases() {
        return Arrays.stream(CASES).map(c -> Arguments.of((Object[]) c.split(",\\s*")));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void shouldGiveEveryQueryTheBitsOfHeadAttention(int headDim, int heads, int qHeads, int positions) {
        checkAgainstHeadAttention(headDim, heads, qHeads, positions);
    }

    /**
     * The same cases with the preferred vectors limited to 128 and 256 bits, and with the scalar
     * loops alone, each in a child JVM ({@link BlockAttentionWidths}): the species is fixed when
     * the class loads, and several widths in one JVM would make the JIT box the Vector API.
     */
    @ParameterizedTest
    @CsvSource({"-XX:MaxVectorSize=16, vector=true", "-XX:MaxVectorSize=32, vector=true",
        "-Dicecache.attention.block-vector=false, vector=false"})
    void shouldGiveTheSameBitsAtOtherVectorWidthsAndWithoutVectors(String flag, String path) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", flag, "-cp",
                System.getProperty("java.class.path"), BlockAttentionWidths.class.getName())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), output);
        assertTrue(output.contains("checked " + (CASES.length + STEP_CASES.length) + " cases, " + path), output);
    }

    /** Every query of blocks of mixed sizes through {@link FullCache} against {@link HeadAttention#attend}, bitwise. */
    static void checkAgainstHeadAttention(int headDim, int heads, int qHeadsTimesKv, int positions) {
        int kvHeads = Math.max(1, qHeadsTimesKv / heads);
        CacheShape shape = new CacheShape(1, kvHeads * heads, kvHeads, headDim, positions);
        SplittableRandom rnd = new SplittableRandom(headDim * 31L + heads);
        int n = shape.maxTokens();
        float[] k = gaussian(rnd, n * shape.kvDim(), 1f);
        float[] v = gaussian(rnd, n * shape.kvDim(), 1f);
        float[] q = gaussian(rnd, n * shape.qDim(), 3f); // peaked softmax: small weights underflow
        FullCache cache = new FullCache(shape);
        float[] out = new float[n * shape.qDim()];
        int[] blocks = {37, 1, 64, 1, 1, 16, 80, 300};
        for (int p = 0, b = 0; p < n; b++) {
            int len = Math.min(blocks[b % blocks.length], n - p);
            for (int i = p; i < p + len; i++) {
                cache.append(0, i, k, i * shape.kvDim(), v, i * shape.kvDim());
            }
            cache.attendBlock(0, p, len, q, p * shape.qDim(), out, p * shape.qDim());
            p += len;
        }
        for (int p = 0; p < n; p++) {
            for (int head = 0; head < shape.nHeads(); head++) {
                float[] want = reference(q, p * shape.qDim() + head * headDim, k, v, p + 1, shape.kvDim(),
                        head / heads * headDim, headDim);
                int at = p * shape.qDim() + head * headDim;
                assertArrayEquals(want, Arrays.copyOfRange(out, at, at + headDim),
                        "headDim=" + headDim + " heads=" + heads + " position=" + p + " head=" + head);
            }
        }
    }

    /**
     * A head size under 8 leaves some of the dot's lanes without dimensions; they must add 0, not
     * what a block of another head size left in a shared scratch.
     */
    @Test
    void shouldGiveTheBitsOfHeadAttentionWithAScratchLastUsedForAnotherHeadSize() {
        BlockAttention.Scratch scratch = new BlockAttention.Scratch();
        SplittableRandom rnd = new SplittableRandom(5);
        int heads = 4;
        int n = 8;
        for (int headDim : new int[] {64, 5}) {
            float[] k = gaussian(rnd, n * headDim, 1f);
            float[] v = gaussian(rnd, n * headDim, 1f);
            float[] q = gaussian(rnd, n * heads * headDim, 1f);
            int[] limit = new int[n];
            for (int t = 0; t < n; t++) {
                limit[t] = t + 1;
            }
            float[] out = new float[n * heads * headDim];
            BlockAttention.attendBlock(q, 0, heads * headDim, heads, n, limit, k, v, headDim, scratch, out, 0,
                    heads * headDim);
            for (int t = 0; t < n; t++) {
                for (int g = 0; g < heads; g++) {
                    int at = (t * heads + g) * headDim;
                    float[] want = reference(q, at, k, v, t + 1, headDim, 0, headDim);
                    assertArrayEquals(want, Arrays.copyOfRange(out, at, at + headDim),
                            "headDim=" + headDim + " position=" + t + " head=" + g);
                }
            }
        }
    }

    /** Head size, heads per KV head, rows of a decode step: chunk and value-block tails, one and two quads, a dimension tail. */
    static final String[] STEP_CASES = {"64, 4, 512", "64, 4, 1000", "64, 8, 700", "12, 4, 777", "128, 4, 640",
        "64, 4, 300"};

    /**
     * A decode step over BF16 rows ({@code attendBlockBf16}, keys by chunks; long steps stream the
     * rows through the kernels chunk by chunk) and over the same rows as floats ({@code attendBlock}):
     * every query's bits equal {@link HeadAttention#attend} over the widened rows.
     */
    @ParameterizedTest
    @MethodSource("stepCases")
    void shouldGiveADecodeStepOverBf16OrFloatRowsTheBitsOfHeadAttention(int headDim, int heads, int rows) {
        checkDecodeStep(headDim, heads, rows, new BlockAttention.Scratch());
    }

    static Stream<Arguments> stepCases() {
        return Arrays.stream(STEP_CASES).map(c -> Arguments.of((Object[]) c.split(",\\s*")));
    }

    /** {@link #shouldGiveADecodeStepOverBf16OrFloatRowsTheBitsOfHeadAttention} for one case and scratch. */
    static void checkDecodeStep(int headDim, int heads, int rows, BlockAttention.Scratch scratch) {
        SplittableRandom rnd = new SplittableRandom(rows * 31L + heads * 7L + headDim);
        short[] bkRows = bf16(gaussian(rnd, rows * headDim, 1f));
        short[] bv = bf16(gaussian(rnd, rows * headDim, 1f));
        float[] k = widen(bkRows);
        float[] v = widen(bv);
        int chunk = BlockAttention.keyChunkRows();
        short[] bk = new short[(rows + chunk - 1) / chunk * chunk * headDim]; // the keys by chunks
        for (int i = 0; i < rows; i++) {
            for (int e = 0; e < headDim; e++) {
                bk[BlockAttention.chunkedKeyIndex(i, e, headDim)] = bkRows[i * headDim + e];
            }
        }
        float[] q = gaussian(rnd, heads * headDim, 3f);
        int[] limit = {rows};
        float[] fromBf16 = new float[heads * headDim];
        float[] fromFloat = new float[heads * headDim];
        BlockAttention.attendBlockBf16(q, 0, heads * headDim, heads, 1, limit, bk, bv, headDim, scratch, fromBf16, 0,
                heads * headDim);
        BlockAttention.attendBlock(q, 0, heads * headDim, heads, 1, limit, k, v, headDim, scratch, fromFloat, 0,
                heads * headDim);
        for (int g = 0; g < heads; g++) {
            float[] want = reference(q, g * headDim, k, v, rows, headDim, 0, headDim);
            String what = "headDim=" + headDim + " heads=" + heads + " rows=" + rows + " head=" + g;
            assertArrayEquals(want, Arrays.copyOfRange(fromBf16, g * headDim, (g + 1) * headDim), "BF16 " + what);
            assertArrayEquals(want, Arrays.copyOfRange(fromFloat, g * headDim, (g + 1) * headDim), "F32 " + what);
        }
    }

    /**
     * {@link HeadAttention#attend} of the query at {@code q[qOff]} over rows 0 .. n-1 of {@code k}
     * and {@code v}, row i at {@code i * stride + at} of each: the reference every kernel must match.
     */
    static float[] reference(float[] q, int qOff, float[] k, float[] v, int n, int stride, int at, int headDim) {
        float[][] kr = new float[n][];
        float[][] vr = new float[n][];
        int[] off = new int[n];
        for (int i = 0; i < n; i++) {
            kr[i] = k;
            vr[i] = v;
            off[i] = i * stride + at;
        }
        float[] want = new float[headDim];
        HeadAttention.attend(q, qOff, kr, off, vr, off, n, headDim, new float[n], want, 0);
        return want;
    }

    private static short[] bf16(float[] f) {
        short[] b = new short[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = PageFormat.narrow(f[i]);
        }
        return b;
    }

    private static float[] widen(short[] b) {
        float[] f = new float[b.length];
        for (int i = 0; i < b.length; i++) {
            f[i] = PageFormat.widen(b[i]);
        }
        return f;
    }

    @Test
    void shouldGiveTheVectorSoftmaxTheBitsOfHeadAttentionsSoftmax() {
        // every tail length (n % 16), offsets that are not vector-aligned, scores far below the
        // maximum (clamped at SoftmaxExp.LOWEST), ties at the maximum, and a long row
        org.junit.jupiter.api.Assumptions.assumeTrue(BlockAttention.VECTOR && BlockAttentionVector.softmaxSupported(),
                "the JVM runs no 256- or 512-bit vector kernels");
        SplittableRandom rnd = new SplittableRandom(17);
        float[] lanes = new float[16];
        for (int n : new int[] {1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 100, 257, 4099}) {
            for (int from : new int[] {0, 3, 16}) {
                float[] a = new float[from + n + 5];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) (rnd.nextGaussian() * (rnd.nextInt(10) == 0 ? 60 : 4));
                }
                a[from + n / 2] = 50f;
                a[from + n - 1] = 50f;
                float[] b = a.clone();
                HeadAttention.softmax(a, from, n);
                BlockAttentionVector.softmax(b, from, n, lanes);
                for (int i = 0; i < a.length; i++) {
                    assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), "n=" + n + " from=" + from + " i=" + i);
                }
            }
        }
    }

    @Test
    void shouldRejectAQueryWithoutRows() {
        float[] rows = new float[8];
        assertEquals("limit[1]=0 must be >= 1", assertThrows(IllegalArgumentException.class,
                () -> BlockAttention.attendBlock(rows, 0, 4, 1, 2, new int[] {1, 0}, rows, rows, 4,
                        new BlockAttention.Scratch(), new float[8], 0, 4)).getMessage());
    }

    private static float[] gaussian(SplittableRandom rnd, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian() * scale;
        }
        return a;
    }

    @Test
    void shouldTakeAsManyGroupsOfSixAsLeaveAMultipleOfFour() {
        assertEquals(4, BlockAttention.hexes(32), "a full tile: 4 x 6 + 2 x 4");
        for (int count = 1; count <= 64; count++) {
            int hex = BlockAttention.hexes(count);
            int best = 0;
            for (int h = 1; 6 * h <= count; h++) {
                if ((count - 6 * h) % 4 == 0) {
                    best = h;
                }
            }
            assertEquals(best, hex, "count=" + count);
        }
    }
}
