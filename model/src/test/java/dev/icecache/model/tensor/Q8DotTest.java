package dev.icecache.model.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The int8 x int8 Q8_0 dot ({@link Q8_0Tensor#dotQ8}) against brute force: exactly the block
 * formula up to float rounding, and within the activations' quantization error of the float dot.
 */
class Q8DotTest {

    /** A Q8_0 tensor of n elements with random int8 values and random f16 scales. */
    static Q8_0Tensor randomTensor(SplittableRandom rnd, int n) {
        ByteBuffer b = ByteBuffer.allocate(n / 32 * 34).order(ByteOrder.LITTLE_ENDIAN);
        for (int block = 0; block < n / 32; block++) {
            b.putShort(Float16.fromFloat((float) (0.001 + rnd.nextDouble() * 0.05)));
            for (int j = 0; j < 32; j++) {
                b.put((byte) rnd.nextInt(-128, 128));
            }
        }
        b.flip();
        return (Q8_0Tensor) FloatTensor.of("w", GgmlType.Q8_0, b, n);
    }

    static float[] randomVector(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            // mixed magnitudes, so some blocks have one large value and many small ones
            x[i] = (float) (rnd.nextGaussian() * (rnd.nextInt(8) == 0 ? 20 : 1));
        }
        return x;
    }

    @Test
    void shouldQuantizeEachElementWithinHalfItsBlockScale() {
        for (long seed = 1; seed <= 20; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int n = 32 * (1 + rnd.nextInt(10));
            float[] x = randomVector(rnd, n);
            Q8Activations q = new Q8Activations(n);
            q.quantize(x, 0, n, 0);
            for (int b = 0; b < n; b += 32) {
                float amax = 0f;
                for (int i = b; i < b + 32; i++) {
                    amax = Math.max(amax, Math.abs(x[i]));
                }
                float d = amax / 127f;
                for (int i = b; i < b + 32; i++) {
                    assertTrue(Math.abs(q.quants[i]) <= 127, "seed=" + seed + " i=" + i);
                    assertTrue(Math.abs(x[i] - q.get(i)) <= d / 2 * (1 + 1e-5f),
                            "seed=" + seed + " i=" + i + ": " + x[i] + " -> " + q.get(i) + " (scale " + d + ")");
                    if (Math.abs(x[i]) == amax && amax > 0) {
                        assertEquals(127, Math.abs(q.quants[i]), "seed=" + seed + ": the block's largest maps to +-127");
                    }
                }
            }
        }
    }

    @Test
    void shouldQuantizeAllZeroBlockToZeros() {
        Q8Activations q = new Q8Activations(64);
        q.quantize(new float[64], 0, 64, 0);
        for (int i = 0; i < 64; i++) {
            assertEquals(0, q.quants[i]);
        }
        assertEquals(0f, q.scales[0]);
    }

    @Test
    void shouldMatchBlockFormulaAndStayWithinQuantizationErrorOfFloatDot() {
        for (long seed = 1; seed <= 60; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int cols = 32 * (1 + rnd.nextInt(40));
            int rows = 1 + rnd.nextInt(4);
            Q8_0Tensor w = randomTensor(rnd, rows * cols);
            float[] x = randomVector(rnd, cols);
            Q8Activations q = new Q8Activations(cols);
            q.quantize(x, 0, cols, 0);
            ByteBuffer raw = w.rawBytes();
            for (int r = 0; r < rows; r++) {
                long off = (long) r * cols;
                float got = w.dotQ8(off, q, 0, cols);
                double exact = 0;        // sum_b dw*dx*int_sum, in double
                double magnitude = 0;    // sum |w_i * xq_i|, for the rounding slack
                double quantError = 0;   // sum_b dw * sum|qw| * dx/2: bound on |quantized - float x| terms
                double floatDot = 0;
                for (int b = 0; b < cols; b += 32) {
                    int block = (int) ((off + b) / 32 * 34);
                    double dw = Float16.toFloat(raw.getShort(block));
                    long isum = 0;
                    long absW = 0;
                    for (int j = b; j < b + 32; j++) {
                        int qw = raw.get(block + 2 + j - b);
                        isum += (long) qw * q.quants[j];
                        absW += Math.abs(qw);
                        magnitude += Math.abs((double) w.getFloat(off + j) * q.get(j));
                        floatDot += (double) w.getFloat(off + j) * x[j];
                    }
                    exact += dw * q.scales[b / 32] * isum;
                    quantError += dw * absW * q.scales[b / 32] / 2;
                }
                String where = "seed=" + seed + " row=" + r + " cols=" + cols;
                assertEquals(exact, got, 1e-5 * magnitude + 1e-30, where + ": int8 dot vs block formula");
                assertTrue(Math.abs(got - floatDot) <= quantError * (1 + 1e-4) + 1e-5 * magnitude,
                        where + ": |" + got + " - " + floatDot + "| exceeds the quantization bound " + quantError);
            }
        }
    }

    /**
     * With unit scales every product and partial sum is an integer below 2^24, so the kernel must
     * return the exact integer dot whatever its order: including the largest pair sums, weights
     * of -128 against activations of -127 (2 * 16256 = 32512, near the int16 limit of the
     * products the vector kernel forms), repeated until C2 has compiled the kernel.
     */
    @Test
    void shouldGiveTheExactIntegerDotAtTheExtremesOfInt8() {
        SplittableRandom rnd = new SplittableRandom(21);
        for (int round = 0; round < 4000; round++) {
            int blocks = 1 + rnd.nextInt(12);
            int n = 32 * blocks;
            ByteBuffer b = ByteBuffer.allocate(blocks * 34).order(ByteOrder.LITTLE_ENDIAN);
            float[] x = new float[n];
            int[] qw = new int[n];
            boolean extreme = round % 2 == 0;
            for (int block = 0; block < blocks; block++) {
                b.putShort(Float16.fromFloat(1f));
                for (int j = 0; j < 32; j++) {
                    int i = block * 32 + j;
                    qw[i] = extreme ? -128 : rnd.nextInt(-128, 128);
                    b.put((byte) qw[i]);
                    x[i] = extreme ? -127f : rnd.nextInt(-127, 128);
                }
                x[block * 32 + rnd.nextInt(32)] = extreme ? -127f : 127f; // the block's scale is then exactly 1
            }
            b.flip();
            Q8_0Tensor w = (Q8_0Tensor) FloatTensor.of("w", GgmlType.Q8_0, b, n);
            Q8Activations q = new Q8Activations(n);
            q.quantize(x, 0, n, 0);
            long exact = 0;
            for (int i = 0; i < n; i++) {
                assertEquals(x[i], q.get(i), "unit scale keeps integers, i=" + i);
                exact += (long) qw[i] * (long) x[i];
            }
            assertEquals((float) exact, w.dotQ8(0, q, 0, n), "round=" + round + " blocks=" + blocks);
        }
    }

    /** The same tensor with its bytes in a direct buffer, as a mapped model file holds them. */
    static Q8_0Tensor direct(Q8_0Tensor w) {
        ByteBuffer raw = w.rawBytes();
        ByteBuffer b = ByteBuffer.allocateDirect(raw.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        b.put(raw).flip();
        return (Q8_0Tensor) FloatTensor.of(w.name(), GgmlType.Q8_0, b, w.size());
    }

    @Test
    void shouldGiveTheSameBitsFromTheHeapRowsAsFromTheMapping() {
        // at 256 bits the int8 dot reads the heap rows in pair order (even block counts) and copies
        // a mapped row first otherwise; at 512 it reads them in block-pair order (even block counts
        // from even blocks) and the mapping in place otherwise; every result must be the same, at every width
        for (long seed = 1; seed <= 12; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int rows = 3;
            int cols = 32 * (1 + rnd.nextInt(9));
            Q8_0Tensor mapped = direct(randomTensor(rnd, rows * cols));
            Q8_0Tensor heap = mapped.withHeapRows();
            assertTrue(heap.hasHeapRows() && !mapped.hasHeapRows(), "withHeapRows adds the rows");
            assertEquals(rows * cols / 32 * 36, heap.heapRowBytes());
            float[] x = randomVector(rnd, cols);
            x[rnd.nextInt(cols)] = -1e4f; // a block whose activation reaches -127
            Q8Activations q = new Q8Activations(cols);
            q.quantize(x, 0, cols, 0);
            for (int r = 0; r < rows; r++) {
                long at = (long) r * cols;
                for (int len = 32; len <= cols; len += 32) { // odd and even block counts from each row's start
                    assertEquals(Float.floatToRawIntBits(mapped.dotQ8(at, q, 0, len)),
                            Float.floatToRawIntBits(heap.dotQ8(at, q, 0, len)),
                            "seed=" + seed + " row=" + r + " len=" + len);
                }
                assertEquals(Float.floatToRawIntBits(mapped.dot(at, x, 0, cols)),
                        Float.floatToRawIntBits(heap.dot(at, x, 0, cols)), "float dot, seed=" + seed);
            }
            float[] a = new float[rows * cols];
            float[] b = new float[rows * cols];
            mapped.copyTo(0, a, 0, a.length);
            heap.copyTo(0, b, 0, b.length);
            assertArrayEquals(a, b, "seed=" + seed);
            assertSame(heap, heap.withHeapRows(), "rows are not added twice");
        }
    }

    @Test
    void shouldPutEachBlocksPairSumsInItsInt16LanesInBlockPairOrder() {
        // the 512-bit kernel's layout, checked in scalar code so that it holds on any machine: the two
        // 32-byte halves of a pair of blocks, multiplied lane by lane with the activations in the same
        // order and added, give the even block's pair sum k at int16 lane 2k and the odd one's at 2k+1
        SplittableRandom rnd = new SplittableRandom(11);
        for (int trial = 0; trial < 50; trial++) {
            byte[] w = new byte[64];
            byte[] x = new byte[64];
            for (int i = 0; i < 64; i++) {
                w[i] = (byte) rnd.nextInt(-128, 128);
                x[i] = (byte) rnd.nextInt(-127, 128);
            }
            if (trial == 0) {
                java.util.Arrays.fill(w, (byte) -128); // the extremes: 2 * 128 * 127 = 32,512 fits int16
                java.util.Arrays.fill(x, (byte) -127);
            }
            byte[] wo = new byte[64];
            byte[] xo = new byte[64];
            for (int block = 0; block < 2; block++) {
                Q8Activations.toBlockPairOrder(w, 32 * block, wo, block);
                Q8Activations.toBlockPairOrder(x, 32 * block, xo, block);
            }
            for (int lane = 0; lane < 32; lane++) {
                int sum = wo[lane] * xo[lane] + wo[32 + lane] * xo[32 + lane];
                int block = lane & 1;
                int k = lane >> 1;
                int e = 32 * block + 2 * k;
                assertEquals(w[e] * x[e] + w[e + 1] * x[e + 1], sum, "trial " + trial + " lane " + lane);
                assertEquals(sum, (short) sum, "the pair sum fits int16");
            }
        }
        // a block writes only its own lanes of the pair: the odd block of pair 1 leaves the even one alone
        byte[] dst = new byte[128];
        java.util.Arrays.fill(dst, (byte) 7);
        byte[] ones = new byte[32];
        java.util.Arrays.fill(ones, (byte) 1);
        Q8Activations.toBlockPairOrder(ones, 0, dst, 3);
        for (int i = 0; i < 128; i++) {
            boolean own = i >= 64 && (i & 1) == 1;
            assertEquals(own ? 1 : 7, dst[i], "byte " + i);
        }
    }

    @Test
    void shouldGiveTheSameBitsFromTheHeapRowsAtAnyBlockOfTheActivations() {
        // activations quantized block by block at odd and even blocks of a shared buffer with an odd
        // block count, read from odd and even blocks: the heap rows give the mapping's bits
        SplittableRandom rnd = new SplittableRandom(5);
        int cols = 32 * 7;
        Q8_0Tensor mapped = direct(randomTensor(rnd, 2 * cols));
        Q8_0Tensor heap = mapped.withHeapRows();
        Q8Activations q = new Q8Activations(3 * cols);
        float[] x = randomVector(rnd, 3 * cols);
        for (int at = 0; at < 3 * cols; at += cols) {
            q.quantize(x, at, cols, at);
        }
        for (int xOff = 0; xOff + 64 <= 3 * cols; xOff += 32) {
            for (int len = 32; len <= 2 * cols - 32 && xOff + len <= 3 * cols; len += 32) {
                for (long at = 0; at + len <= 2L * cols; at += 32) {
                    assertEquals(Float.floatToRawIntBits(mapped.dotQ8(at, q, xOff, len)),
                            Float.floatToRawIntBits(heap.dotQ8(at, q, xOff, len)), "at=" + at + " xOff=" + xOff + " len=" + len);
                }
            }
        }
    }

    @Test
    void shouldKeepEveryPairSumExactAtTheInt8Extremes() {
        // int16 holds w0 x0 + w1 x1 only because activations stop at -127: weights of -128 (which a
        // file may hold) against activations of -127 give 2 * 16,256 = 32,512 per lane
        for (int blocks : new int[] {2, 4}) {
            int n = 32 * blocks;
            ByteBuffer b = ByteBuffer.allocateDirect(n / 32 * 34).order(ByteOrder.LITTLE_ENDIAN);
            float[] x = new float[n];
            for (int block = 0; block < blocks; block++) {
                b.putShort(Float16.fromFloat(1f));
                for (int j = 0; j < 32; j++) {
                    b.put((byte) -128);
                    x[block * 32 + j] = -127f;
                }
            }
            b.flip();
            Q8_0Tensor mapped = (Q8_0Tensor) FloatTensor.of("w", GgmlType.Q8_0, b, n);
            Q8Activations q = new Q8Activations(n);
            q.quantize(x, 0, n, 0);
            float expected = 128f * 127f * n;
            assertEquals(expected, mapped.dotQ8(0, q, 0, n), "mapped, blocks=" + blocks);
            assertEquals(expected, mapped.withHeapRows().dotQ8(0, q, 0, n), "heap rows, blocks=" + blocks);
        }
    }

    @Test
    void shouldRejectRangesOffBlockBoundaries() {
        Q8_0Tensor w = randomTensor(new SplittableRandom(3), 128);
        Q8Activations q = new Q8Activations(64);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.dotQ8(16, q, 0, 32));
        assertTrue(e.getMessage().contains("multiples of 32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> w.dotQ8(0, q, 0, 96)); // longer than the vector
        assertThrows(IllegalArgumentException.class, () -> w.dotQ8(96, q, 0, 64)); // past the tensor
        assertThrows(IllegalArgumentException.class, () -> q.quantize(new float[40], 0, 40, 0));
        assertThrows(IllegalArgumentException.class, () -> new Q8Activations(33));
    }
}
