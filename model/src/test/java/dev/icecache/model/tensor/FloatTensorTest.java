package dev.icecache.model.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Decoding of each ggml format against hand-computed values, and the vector dot against the scalar reference. */
class FloatTensorTest {

    private static FloatTensor tensor(GgmlType type, byte[] bytes, long size) {
        return FloatTensor.of("t", type, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN), size);
    }

    @Test
    void shouldDecodeQ8_0BlockAsScaleTimesInt8() {
        byte[] b = new byte[34];
        b[0] = 0x00; // f16 0x3800 = 0.5, little-endian
        b[1] = 0x38;
        b[2] = 4;
        b[3] = -6;
        b[33] = 127;
        FloatTensor t = tensor(GgmlType.Q8_0, b, 32);
        assertEquals(2.0f, t.getFloat(0));
        assertEquals(-3.0f, t.getFloat(1));
        assertEquals(0.0f, t.getFloat(2));
        assertEquals(63.5f, t.getFloat(31));
    }

    @Test
    void shouldDecodeQ4_0LowNibblesFirstThenHighNibbles() {
        byte[] b = new byte[18];
        b[0] = 0x00; // f16 0x4000 = 2.0
        b[1] = 0x40;
        b[2] = (byte) 0xF0; // element 0: low nibble 0 -> -8; element 16: high nibble 15 -> 7
        b[17] = (byte) 0x39; // element 15: 9 -> 1; element 31: 3 -> -5
        FloatTensor t = tensor(GgmlType.Q4_0, b, 32);
        assertEquals(-16f, t.getFloat(0));
        assertEquals(14f, t.getFloat(16));
        assertEquals(2f, t.getFloat(15));
        assertEquals(-10f, t.getFloat(31));
        assertEquals(-16f, t.getFloat(1)); // zero byte: both nibbles 0 -> -8
    }

    @Test
    void shouldDecodeHalfPrecisionSpecialValues() {
        assertEquals(1.0f, Float16.toFloat((short) 0x3C00));
        assertEquals(-2.0f, Float16.toFloat((short) 0xC000));
        assertEquals(65504f, Float16.toFloat((short) 0x7BFF));
        assertEquals(0x1p-24f, Float16.toFloat((short) 0x0001));
        assertEquals(0x1p-14f, Float16.toFloat((short) 0x0400));
        assertEquals(Float.NEGATIVE_INFINITY, Float16.toFloat((short) 0xFC00));
        assertTrue(Float.isNaN(Float16.toFloat((short) 0x7E00)));
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(Float16.toFloat((short) 0x8000)));
        assertEquals(1.0f, Float16.bf16ToFloat((short) 0x3F80));
        assertEquals(-3.0f, Float16.bf16ToFloat((short) 0xC040));
    }

    @Test
    void shouldRoundTripEveryHalfThroughFloat() {
        for (int h = 0; h < 65536; h++) {
            float f = Float16.toFloat((short) h);
            short back = Float16.fromFloat(f);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(Float16.toFloat(back)), "NaN half 0x" + Integer.toHexString(h));
            } else {
                assertEquals((short) h, back, "half 0x" + Integer.toHexString(h) + " -> " + f);
            }
        }
    }

    @Test
    void shouldRoundFloatToNearestEvenHalf() {
        // 1 + 2^-11 lies halfway between 1 and the next half (1 + 2^-10): ties to even -> 1
        assertEquals((short) 0x3C00, Float16.fromFloat(1f + 0x1p-11f));
        // 1 + 3 * 2^-11 lies halfway between 1 + 2^-10 (odd) and 1 + 2^-9: -> 1 + 2^-9
        assertEquals((short) 0x3C02, Float16.fromFloat(1f + 3 * 0x1p-11f));
        assertEquals((short) 0x7C00, Float16.fromFloat(65520f));
        assertEquals((short) 0x7BFF, Float16.fromFloat(65519f));
        assertEquals((short) 0x3F80, Float16.floatToBf16(1f + 0x1p-9f)); // tie, even
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void shouldAgreeVectorDotWithScalarSumsAtUnalignedOffsets(GgmlType type) {
        for (int trial = 0; trial < 200; trial++) {
            long seed = 1000L * type.ordinal() + trial;
            SplittableRandom r = new SplittableRandom(seed);
            int blocks = 1 + r.nextInt(12);
            int size = blocks * type.blockSize();
            float[] values = new float[size];
            for (int i = 0; i < size; i++) {
                values[i] = (float) r.nextGaussian() * (trial % 3 == 0 ? 1000f : 1f);
            }
            ByteBuffer bytes = ByteBuffer.allocate((int) type.byteSizeFor(size)).order(ByteOrder.LITTLE_ENDIAN);
            Quantizer.encode(type, values, size, bytes);
            bytes.flip();
            FloatTensor t = FloatTensor.of("t", type, bytes, size);
            int offset = r.nextInt(size);
            int n = r.nextInt(size - offset + 1);
            int xOff = r.nextInt(5);
            float[] x = new float[xOff + n];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            double exact = 0;
            double magnitude = 0;
            for (int i = 0; i < n; i++) {
                double p = (double) t.getFloat(offset + i) * x[xOff + i];
                exact += p;
                magnitude += Math.abs(p);
            }
            double tol = 1e-5 * magnitude + 1e-30;
            String what = type + " seed=" + seed + " offset=" + offset + " n=" + n;
            assertEquals(exact, t.dot(offset, x, xOff, n), tol, what + " (vector dot)");
            assertEquals(exact, t.scalarDot(offset, x, xOff, n), tol, what + " (scalar dot)");
            float[] decoded = new float[n];
            t.copyTo(offset, decoded, 0, n);
            for (int i = 0; i < n; i++) {
                assertEquals(t.getFloat(offset + i), decoded[i], what + " copyTo element " + i);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "F16", "BF16"})
    void shouldQuantizeWithinHalfAStepOfTheInput(GgmlType type) {
        SplittableRandom r = new SplittableRandom(99);
        float[] values = new float[256];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) r.nextGaussian();
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) type.byteSizeFor(256)).order(ByteOrder.LITTLE_ENDIAN);
        Quantizer.encode(type, values, 256, bytes);
        bytes.flip();
        FloatTensor t = FloatTensor.of("t", type, bytes, 256);
        for (int b = 0; b < 256; b += 32) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(values[b + j]));
            }
            // half a step (Q8_0 amax/127, F16/BF16 one ulp at amax) plus the f16 scale's error; Q4_0
            // maps the extreme to -8 so the opposite side clips at +7: up to a whole step amax/8
            double step = switch (type) {
                case Q8_0 -> amax / 127.0;
                case Q4_0 -> 2 * amax / 8.0;
                case F16 -> amax * 0x1p-10;
                default -> amax * 0x1p-7;
            };
            for (int j = 0; j < 32; j++) {
                assertEquals(values[b + j], t.getFloat(b + j), step * 0.5 + amax * 1e-3, type + " element " + (b + j));
            }
        }
    }

    @Test
    void shouldComputeTiledHeapDotsLikeSeparateDots() {
        for (int trial = 0; trial < 100; trial++) {
            long seed = 5000 + trial;
            SplittableRandom r = new SplittableRandom(seed);
            int n = 1 + r.nextInt(100);
            int aStride = n + r.nextInt(3);
            int xStride = n + r.nextInt(3);
            float[] a = new float[4 * aStride + 1];
            float[] x = new float[4 * xStride + 2];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            int outStride = 4 + r.nextInt(3); // the four rows of a vector must not overlap the next vector's
            float[] tile = new float[4 * outStride + 4];
            FixedLaneDot.dot4x4(a, 1, aStride, x, 2, xStride, n, tile, 0, outStride, new float[FixedLaneDot.TILE_SCRATCH]);
            for (int j = 0; j < 4; j++) {
                for (int k = 0; k < 4; k++) {
                    double want = 0;
                    double magnitude = 0;
                    for (int i = 0; i < n; i++) {
                        double p = (double) a[1 + j * aStride + i] * x[2 + k * xStride + i];
                        want += p;
                        magnitude += Math.abs(p);
                    }
                    String what = "seed=" + seed + " n=" + n + " row=" + j + " vector=" + k;
                    float dot = FixedLaneDot.dot(a, 1 + j * aStride, x, 2 + k * xStride, n);
                    assertEquals(want, dot, 1e-5 * magnitude, what);
                    assertEquals(Float.floatToRawIntBits(dot), Float.floatToRawIntBits(tile[k * outStride + j]),
                            what + ": the tile gives the dot's bits");
                }
            }
        }
    }
}
