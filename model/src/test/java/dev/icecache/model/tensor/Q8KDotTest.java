package dev.icecache.model.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The K-quant int8 dots ({@link Q8KDot#dotQ8K}) against a scalar reference of the same integer
 * arithmetic written here from ggml's block layouts (bit-identical: the integer sums are exact,
 * the float steps the same), and against the float dot of the dequantized weights with the
 * unquantized vector, within the activations' quantization error: at most
 * {@code sum_i |w_i| * |dx|} (half a step, or a whole one for an element ggml's grid clamps to
 * 127), plus float rounding of 1e-5 of the magnitude.
 */
class Q8KDotTest {

    static float[] randomVector(SplittableRandom rnd, int n) {
        return Q8DotTest.randomVector(rnd, n);
    }

    /** A tensor of {@code n} elements (a multiple of 256) of random blocks of a K-quant type. */
    static FloatTensor randomTensor(GgmlType type, SplittableRandom rnd, int n) {
        byte[] bytes = KQuantTensorTest.randomBlocks(type, n / 256, rnd);
        return FloatTensor.of("w", type, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN), n);
    }

    @Test
    void shouldQuantizeOnGgmlsGridAndSumEachSixteen() {
        for (long seed = 1; seed <= 20; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int n = 256 * (1 + rnd.nextInt(4));
            float[] x = randomVector(rnd, n);
            Q8KActivations q = new Q8KActivations(n);
            q.quantize(x, 0, n, 0);
            for (int b = 0; b < n; b += 256) {
                float max = 0f;
                for (int i = b; i < b + 256; i++) {
                    max = Math.abs(x[i]) > Math.abs(max) ? x[i] : max;
                }
                float d = -max / 128;
                assertEquals(d, q.scales[b / 256], Math.abs(d) * 1e-6f, "seed=" + seed + " block scale");
                for (int i = b; i < b + 256; i++) {
                    assertTrue(q.quants[i] >= -128 && q.quants[i] <= 127, "seed=" + seed + " i=" + i);
                    // ggml's clamp: a value of the largest's opposite sign beyond 127 steps becomes 127
                    boolean clamped = q.quants[i] == 127 && Math.abs(x[i]) > 127.5f * Math.abs(d);
                    assertTrue(Math.abs(x[i] - q.get(i)) <= Math.abs(d) * (clamped ? 1 : 0.5f) * (1 + 1e-5f),
                            "seed=" + seed + " i=" + i + ": " + x[i] + " -> " + q.get(i) + " (scale " + d + ")");
                    if (x[i] == max) {
                        assertEquals(-128, q.quants[i], "seed=" + seed + ": the block's largest maps to -128");
                    }
                }
            }
            for (int g = 0; g < n; g += 16) {
                int sum = 0;
                for (int i = g; i < g + 16; i++) {
                    sum += q.quants[i];
                }
                assertEquals(sum, q.sums[g / 16], "seed=" + seed + " partial sum " + g / 16);
            }
        }
    }

    @Test
    void shouldQuantizeAtAnOffsetWithoutTouchingOtherBlocks() {
        float[] x = randomVector(new SplittableRandom(9), 512);
        Q8KActivations whole = new Q8KActivations(512);
        whole.quantize(x, 0, 512, 0);
        Q8KActivations split = new Q8KActivations(768);
        split.quantize(x, 256, 256, 512);
        split.quantize(x, 0, 256, 0);
        for (int i = 0; i < 256; i++) {
            assertEquals(whole.quants[i], split.quants[i]);
            assertEquals(whole.quants[256 + i], split.quants[512 + i]);
            assertEquals(0, split.quants[256 + i], "block 1 was never written");
        }
        assertEquals(whole.scales[1], split.scales[2]);
        assertEquals(whole.sums[16], split.sums[32]);
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void shouldGiveTheReferenceBitsAndStayWithinQuantizationErrorOfTheFloatDot(GgmlType type) {
        for (long seed = 1; seed <= 40; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed * 31 + type.ordinal());
            int cols = 256 * (1 + rnd.nextInt(6));
            int rows = 1 + rnd.nextInt(3);
            FloatTensor w = randomTensor(type, rnd, rows * cols);
            float[] x = randomVector(rnd, 2 * cols);
            Q8KActivations q = new Q8KActivations(2 * cols);
            q.quantize(x, 0, 2 * cols, 0);
            int xOff = cols * rnd.nextInt(2);
            byte[] raw = bytes(w);
            for (int r = 0; r < rows; r++) {
                long off = (long) r * cols;
                float got = ((Q8KDot) w).dotQ8K(off, q, xOff, cols);
                String where = type + " seed=" + seed + " row=" + r + " cols=" + cols;
                assertEquals(Float.floatToRawIntBits(reference(type, raw, off, q, xOff, cols)), Float.floatToRawIntBits(got),
                        where + ": int8 dot vs the scalar reference of its arithmetic");
                double floatDot = 0;
                double magnitude = 0;
                double quantError = 0;
                for (int i = 0; i < cols; i++) {
                    double wi = w.getFloat(off + i);
                    floatDot += wi * x[xOff + i];
                    magnitude += Math.abs(wi * q.get(xOff + i));
                    // at most one step of the grid (a clamped element), usually half of one
                    quantError += Math.abs(wi) * Math.abs(q.scales[(xOff + i) / 256]);
                }
                assertTrue(Math.abs(got - floatDot) <= quantError * (1 + 1e-4) + 1e-5 * magnitude,
                        where + ": |" + got + " - " + floatDot + "| exceeds the quantization bound " + quantError);
            }
        }
    }

    /**
     * The bits stay the reference's once the kernel is compiled: hot on a direct (mapped) buffer,
     * then alternating heap and direct buffers (C2 recompiled an earlier Q6_K kernel, whose lane
     * scales came from {@code addIndex}, into one that summed wrongly on both).
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void shouldKeepTheReferenceBitsWhenCompiledForMappedBuffersAndThenGivenHeapOnes(GgmlType type) {
        FloatTensor hot = direct(randomTensor(type, new SplittableRandom(5), 2048));
        Q8KActivations hotX = new Q8KActivations(2048);
        hotX.quantize(randomVector(new SplittableRandom(6), 2048), 0, 2048, 0);
        float sink = 0f;
        for (int i = 0; i < 200_000; i++) {
            sink += ((Q8KDot) hot).dotQ8K(0, hotX, 0, 2048);
        }
        assertTrue(Float.isFinite(sink), "warm-up sum");
        for (int iter = 0; iter < 1000; iter++) {
            SplittableRandom rnd = new SplittableRandom(iter);
            int cols = 256 * (1 + rnd.nextInt(6));
            FloatTensor w = randomTensor(type, rnd, cols);
            if (iter % 2 == 1) {
                w = direct(w);
            }
            Q8KActivations q = new Q8KActivations(cols);
            q.quantize(randomVector(rnd, cols), 0, cols, 0);
            assertEquals(Float.floatToRawIntBits(reference(type, bytes(w), 0, q, 0, cols)),
                    Float.floatToRawIntBits(((Q8KDot) w).dotQ8K(0, q, 0, cols)), type + " iter " + iter);
        }
    }

    /**
     * K-quant rows on the heap ({@link HeapRows#withHeapRows}: Q4_K sub-blocks packed for one load,
     * Q5_K and Q6_K quants joined into bytes, the scales decoded) give the mapped kernel's bits, which are
     * the reference's, for every row and offset; the tensor's other reads stay the mapping's.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void shouldGiveTheSameBitsFromTheHeapRowsAsFromTheMapping(GgmlType type) {
        for (long seed = 1; seed <= 40; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed * 17 + type.ordinal());
            int cols = 256 * (1 + rnd.nextInt(6));
            int rows = 1 + rnd.nextInt(3);
            FloatTensor mapped = direct(randomTensor(type, rnd, rows * cols));
            FloatTensor heap = ((HeapRows) mapped).withHeapRows();
            assertTrue(((HeapRows) heap).hasHeapRows() && !((HeapRows) mapped).hasHeapRows(), "withHeapRows adds the rows");
            assertSame(heap, ((HeapRows) heap).withHeapRows(), "rows are not added twice");
            long perSuperBlock = switch (type) {
                case Q4_K -> 160L;
                case Q5_K -> 288L;
                default -> 276L;
            };
            assertEquals(rows * cols / 256 * perSuperBlock, ((HeapRows) mapped).heapRowBytes());
            Q8KActivations q = new Q8KActivations(2 * cols);
            q.quantize(randomVector(rnd, 2 * cols), 0, 2 * cols, 0);
            byte[] raw = bytes(mapped);
            for (int r = 0; r < rows; r++) {
                for (int xOff : new int[] {0, cols}) {
                    long off = (long) r * cols;
                    int expected = Float.floatToRawIntBits(reference(type, raw, off, q, xOff, cols));
                    String where = type + " seed=" + seed + " row=" + r + " xOff=" + xOff;
                    assertEquals(expected, Float.floatToRawIntBits(((Q8KDot) mapped).dotQ8K(off, q, xOff, cols)), where + " mapped");
                    assertEquals(expected, Float.floatToRawIntBits(((Q8KDot) heap).dotQ8K(off, q, xOff, cols)), where + " heap rows");
                }
                long i = (long) r * cols + rnd.nextInt(cols);
                assertEquals(mapped.getFloat(i), heap.getFloat(i), "getFloat reads the mapping");
            }
            float[] fromMapping = new float[rows * cols];
            float[] fromHeap = new float[rows * cols + 3];
            mapped.copyTo(0, fromMapping, 0, rows * cols);
            heap.copyTo(0, fromHeap, 3, rows * cols);
            assertArrayEquals(fromMapping, Arrays.copyOfRange(fromHeap, 3, 3 + rows * cols), type + " seed=" + seed + ": copyTo, the prefill's decode");
            if (rows > 1) { // a range that starts at the second row and crosses into the third
                int n = Math.min((rows - 1) * cols, 2 * cols);
                assertEquals(Float.floatToRawIntBits(reference(type, raw, cols, q, 0, n)),
                        Float.floatToRawIntBits(((Q8KDot) heap).dotQ8K(cols, q, 0, n)), type + " seed=" + seed + " across rows");
            }
        }
    }

    private static FloatTensor direct(FloatTensor heap) {
        ByteBuffer raw = heap.rawBytes();
        ByteBuffer d = ByteBuffer.allocateDirect(raw.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        d.put(raw).flip();
        return FloatTensor.of("direct", heap.type(), d, heap.size());
    }

    /**
     * The largest products the kernels can meet: every quant at its extreme (all bits set, or none:
     * Q6_K's -32) times int8 values of -128 or 127 everywhere. The kernels multiply in int16 lanes
     * and add each int lane's two products after sign-extending them, so a product bound or a
     * sign extension gone wrong shows here first.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void shouldSumExactlyAtTheLargestProducts(GgmlType type) {
        int n = 1024;
        int blockBytes = type.typeSize();
        // where each super-block keeps its f16 scales: d and dmin first (Q4_K, Q5_K), d last (Q6_K)
        int[] halfs = type == GgmlType.Q6_K ? new int[] {208} : new int[] {0, 2};
        float[] minus = new float[n];
        float[] plus = new float[n];
        for (int i = 0; i < n; i++) {
            minus[i] = -1f; // every element quantizes to -128
            plus[i] = i % 256 == 0 ? -1f : 1f; // the block's largest is -1 (-128), the rest clamp to 127
        }
        for (int fill : new int[] {0xff, 0x00}) {
            byte[] raw = new byte[n / 256 * blockBytes];
            Arrays.fill(raw, (byte) fill);
            for (int at = 0; at < raw.length; at += blockBytes) {
                if (type == GgmlType.Q6_K) {
                    Arrays.fill(raw, at + 192, at + 208, (byte) -128); // int8 scales at their extreme
                }
                for (int h : halfs) {
                    raw[at + h] = 0x00; // f16 1.0: 0x3c00, little-endian
                    raw[at + h + 1] = 0x3c;
                }
            }
            FloatTensor w = FloatTensor.of("extreme", type, ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN), n);
            for (float[] x : new float[][] {minus, plus}) {
                Q8KActivations q = new Q8KActivations(n);
                q.quantize(x, 0, n, 0);
                String where = type + " bytes 0x" + Integer.toHexString(fill) + ", x " + (x == minus ? "-128" : "127");
                assertEquals(Float.floatToRawIntBits(reference(type, raw, 0, q, 0, n)),
                        Float.floatToRawIntBits(((Q8KDot) w).dotQ8K(0, q, 0, n)), where);
                if (w instanceof HeapRows h) {
                    assertEquals(Float.floatToRawIntBits(reference(type, raw, 0, q, 0, n)),
                            Float.floatToRawIntBits(((Q8KDot) h.withHeapRows()).dotQ8K(0, q, 0, n)), where + ", heap rows");
                }
            }
        }
    }

    @Test
    void shouldRejectRangesOffSuperBlockBoundaries() {
        Q8KDot w = (Q8KDot) randomTensor(GgmlType.Q4_K, new SplittableRandom(3), 1024);
        Q8KActivations q = new Q8KActivations(512);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.dotQ8K(128, q, 0, 256));
        assertTrue(e.getMessage().contains("multiples of 256"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> w.dotQ8K(0, q, 0, 768)); // longer than the vector
        assertThrows(IllegalArgumentException.class, () -> w.dotQ8K(768, q, 0, 512)); // past the tensor
        assertThrows(IllegalArgumentException.class, () -> w.dotQ8K(0, q, 256, 512)); // past the vector
        assertThrows(IllegalArgumentException.class, () -> q.quantize(new float[300], 0, 300, 0));
        assertThrows(IllegalArgumentException.class, () -> new Q8KActivations(100));
    }

    private static byte[] bytes(FloatTensor w) {
        ByteBuffer b = w.rawBytes();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /**
     * ggml's {@code ggml_vec_dot_q*_K_q8_K} in scalar code from the block layouts: per
     * super-block the integer quants (with the fifth bit; Q6_K minus 32) times the int8 values,
     * weighted by the 6-bit (Q4_K, Q5_K) or int8 (Q6_K) sub-block scales, the mins times the
     * sub-blocks' sums of int8 values, then the float steps of {@link Q8KDot}'s comment.
     */
    static float reference(GgmlType type, byte[] raw, long offset, Q8KActivations x, int xOff, int n) {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        float sum = 0f;
        for (int k = 0; k < n / 256; k++) {
            int at = Math.toIntExact((offset / 256 + k) * type.typeSize());
            int xb = xOff / 256 + k;
            int[] q = new int[256];
            int[] scales;
            int[] mins = null;
            if (type == GgmlType.Q6_K) {
                scales = new int[16];
                for (int h = 0; h < 2; h++) {
                    for (int l = 0; l < 32; l++) {
                        int a = raw[at + 64 * h + l] & 0xff;
                        int c = raw[at + 64 * h + l + 32] & 0xff;
                        int hb = raw[at + 128 + 32 * h + l] & 0xff;
                        q[128 * h + l] = ((a & 0xf) | ((hb & 3) << 4)) - 32;
                        q[128 * h + l + 32] = ((c & 0xf) | (((hb >> 2) & 3) << 4)) - 32;
                        q[128 * h + l + 64] = ((a >> 4) | (((hb >> 4) & 3) << 4)) - 32;
                        q[128 * h + l + 96] = ((c >> 4) | (((hb >> 6) & 3) << 4)) - 32;
                    }
                }
                for (int s = 0; s < 16; s++) {
                    scales[s] = raw[at + 192 + s];
                }
            } else {
                boolean five = type == GgmlType.Q5_K;
                scales = new int[8];
                mins = new int[8];
                for (int j = 0; j < 4; j++) {
                    int s = raw[at + 4 + j] & 0xff;
                    int m = raw[at + 8 + j] & 0xff;
                    int lowBits = raw[at + 12 + j] & 0xff;
                    scales[j] = s & 0x3f;
                    mins[j] = m & 0x3f;
                    scales[j + 4] = (lowBits & 0x0f) + 16 * (s >> 6);
                    mins[j + 4] = (lowBits >> 4) + 16 * (m >> 6);
                }
                int ql = at + (five ? 48 : 16);
                for (int c = 0; c < 4; c++) {
                    for (int l = 0; l < 32; l++) {
                        int byteQ = raw[ql + 32 * c + l] & 0xff;
                        int h = five ? raw[at + 16 + l] & 0xff : 0;
                        q[64 * c + l] = (byteQ & 0x0f) + (((h >> (2 * c)) & 1) << 4);
                        q[64 * c + 32 + l] = (byteQ >> 4) + (((h >> (2 * c + 1)) & 1) << 4);
                    }
                }
            }
            int group = 256 / scales.length;
            int isum = 0;
            int msum = 0;
            for (int s = 0; s < scales.length; s++) {
                int dot = 0;
                int xsum = 0;
                for (int i = s * group; i < (s + 1) * group; i++) {
                    dot += q[i] * x.quants[xb * 256 + i];
                    xsum += x.quants[xb * 256 + i];
                }
                isum += scales[s] * dot;
                msum += mins == null ? 0 : mins[s] * xsum;
            }
            float dx = x.scales[xb];
            if (type == GgmlType.Q6_K) {
                sum = Math.fma(Float16.toFloat(b.getShort(at + 208)) * dx, (float) isum, sum);
            } else {
                sum = Math.fma(Float16.toFloat(b.getShort(at)) * dx, (float) isum, sum);
                sum = Math.fma(-(Float16.toFloat(b.getShort(at + 2)) * dx), (float) msum, sum);
            }
        }
        return sum;
    }
}
