package dev.icecache.model.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Q5_0, Q5_1, Q4_K, Q5_K and Q6_K against a reference dequantizer written here from the ggml
 * block structs ({@code block_q5_0 {d; qh[4]; qs[16]}}, {@code block_q5_1 {d; m; qh[4]; qs[16]}},
 * {@code block_q4_K {d; dmin; scales[12]; qs[128]}}, {@code block_q5_K {d; dmin; scales[12];
 * qh[32]; qs[128]}}, {@code block_q6_K {ql[128]; qh[64]; scales[16]; d}}) and ggml's published
 * dequantization formulas: every element bit-identical, on random block bytes.
 */
class KQuantTensorTest {

    private static final String NEW_TYPES = "Q5_0|Q5_1|Q4_K|Q5_K|Q6_K";

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void shouldDequantizeBitIdenticalToTheReferenceOnRandomBlocks(GgmlType type) {
        for (int trial = 0; trial < 50; trial++) {
            SplittableRandom r = new SplittableRandom(31L * type.ordinal() + trial);
            int blocks = 1 + r.nextInt(6);
            byte[] bytes = randomBlocks(type, blocks, r);
            int n = blocks * type.blockSize();
            float[] want = reference(type, bytes, n);
            FloatTensor t = FloatTensor.of("t", type, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN), n);
            float[] copied = new float[n];
            t.copyTo(0, copied, 0, n);
            for (int i = 0; i < n; i++) {
                String what = type + " trial " + trial + " element " + i;
                assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(t.getFloat(i)), what + " (getFloat)");
                assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(copied[i]), what + " (copyTo)");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void shouldQuantizeWithinOneStepOfTheInput(GgmlType type) {
        SplittableRandom r = new SplittableRandom(7);
        int n = 4 * 256;
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) r.nextGaussian() * (i < 256 ? 0.01f : 1f);
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) type.byteSizeFor(n)).order(ByteOrder.LITTLE_ENDIAN);
        Quantizer.encode(type, values, n, bytes);
        assertEquals(0, bytes.remaining(), "encoder fills exactly byteSizeFor(n)");
        bytes.flip();
        FloatTensor t = FloatTensor.of("t", type, bytes, n);
        float[] decoded = reference(type, bytes.array(), n);
        for (int b = 0; b < n; b += 256) {
            float amax = 0;
            for (int j = 0; j < 256; j++) {
                amax = Math.max(amax, Math.abs(values[b + j]));
            }
            // the coarsest step of the type over a super-block's range (2 * amax): 5 bits 31 levels,
            // 4 bits 15, Q6_K 6 bits over a symmetric range (63 levels), plus 6-bit scale rounding
            double step = switch (type) {
                case Q4_K -> 2 * amax / 15.0;
                case Q6_K -> 2 * amax / 62.0;
                default -> 2 * amax / 31.0;
            };
            for (int j = 0; j < 256; j++) {
                float got = t.getFloat(b + j);
                assertEquals(decoded[b + j], got, 0f, type + " element " + (b + j) + " vs reference");
                assertTrue(Math.abs(values[b + j] - got) <= step,
                        type + " element " + (b + j) + ": " + values[b + j] + " decoded as " + got + ", step " + step);
            }
        }
    }

    /** Random bytes for {@code blocks} blocks, with the f16 scale fields set to finite random halves. */
    static byte[] randomBlocks(GgmlType type, int blocks, SplittableRandom r) {
        byte[] bytes = new byte[blocks * type.typeSize()];
        r.nextBytes(bytes);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < blocks; k++) {
            int at = k * type.typeSize();
            int[] halves = switch (type) {
                case Q5_0 -> new int[] {at};
                case Q5_1, Q4_K, Q5_K -> new int[] {at, at + 2};
                case Q6_K -> new int[] {at + 208};
                default -> throw new IllegalArgumentException(type.name());
            };
            for (int h : halves) {
                b.putShort(h, Float16.fromFloat((float) (r.nextGaussian() * 0.05)));
            }
        }
        return bytes;
    }

    /** ggml's dequantize_row_* for the new types, from the block structs; elements in order. */
    static float[] reference(GgmlType type, byte[] bytes, int n) {
        float[] y = new float[n];
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int blocks = n / type.blockSize();
        for (int k = 0; k < blocks; k++) {
            int at = k * type.typeSize();
            int out = k * type.blockSize();
            switch (type) {
                case Q5_0, Q5_1 -> {
                    boolean withMin = type == GgmlType.Q5_1;
                    float d = half(b, at);
                    float m = withMin ? half(b, at + 2) : 0f;
                    int qhAt = withMin ? at + 4 : at + 2;
                    long qh = b.getInt(qhAt) & 0xffffffffL;
                    for (int j = 0; j < 16; j++) {
                        int qs = bytes[qhAt + 4 + j] & 0xff;
                        int x0 = (qs & 0x0f) | (int) (((qh >> j) & 1) << 4);
                        int x1 = (qs >> 4) | (int) (((qh >> (j + 16)) & 1) << 4);
                        y[out + j] = withMin ? x0 * d + m : (x0 - 16) * d;
                        y[out + j + 16] = withMin ? x1 * d + m : (x1 - 16) * d;
                    }
                }
                case Q4_K, Q5_K -> {
                    boolean five = type == GgmlType.Q5_K;
                    float d = half(b, at);
                    float dmin = half(b, at + 2);
                    int[] sc = new int[8];
                    int[] mn = new int[8];
                    unpackScales(bytes, at + 4, sc, mn);
                    int qh = at + 16;
                    int ql = five ? at + 48 : at + 16;
                    for (int c = 0; c < 4; c++) {
                        float d1 = d * sc[2 * c];
                        float m1 = dmin * mn[2 * c];
                        float d2 = d * sc[2 * c + 1];
                        float m2 = dmin * mn[2 * c + 1];
                        for (int l = 0; l < 32; l++) {
                            int q = bytes[ql + 32 * c + l] & 0xff;
                            int h = five ? bytes[qh + l] & 0xff : 0;
                            int hi1 = (h & (1 << (2 * c))) != 0 ? 16 : 0;
                            int hi2 = (h & (2 << (2 * c))) != 0 ? 16 : 0;
                            y[out + 64 * c + l] = d1 * ((q & 0x0f) + hi1) - m1;
                            y[out + 64 * c + 32 + l] = d2 * ((q >> 4) + hi2) - m2;
                        }
                    }
                }
                case Q6_K -> {
                    float d = half(b, at + 208);
                    for (int h = 0; h < 2; h++) {
                        int ql = at + 64 * h;
                        int qh = at + 128 + 32 * h;
                        int sc = at + 192 + 8 * h;
                        int base = out + 128 * h;
                        for (int l = 0; l < 32; l++) {
                            int is = l / 16;
                            int a = bytes[ql + l] & 0xff;
                            int c = bytes[ql + l + 32] & 0xff;
                            int hb = bytes[qh + l] & 0xff;
                            int q1 = ((a & 0xf) | ((hb & 3) << 4)) - 32;
                            int q2 = ((c & 0xf) | (((hb >> 2) & 3) << 4)) - 32;
                            int q3 = ((a >> 4) | (((hb >> 4) & 3) << 4)) - 32;
                            int q4 = ((c >> 4) | (((hb >> 6) & 3) << 4)) - 32;
                            y[base + l] = d * bytes[sc + is] * q1;
                            y[base + l + 32] = d * bytes[sc + is + 2] * q2;
                            y[base + l + 64] = d * bytes[sc + is + 4] * q3;
                            y[base + l + 96] = d * bytes[sc + is + 6] * q4;
                        }
                    }
                }
                default -> throw new IllegalArgumentException("no reference for " + type);
            }
        }
        return y;
    }

    /**
     * The 12 scale bytes: bytes 0-3 hold scales 0-3 in their low 6 bits and the top 2 bits of
     * scales 4-7; bytes 4-7 the same for mins; bytes 8-11 the low 4 bits of scale 4-7 (low
     * nibble) and min 4-7 (high nibble).
     */
    private static void unpackScales(byte[] bytes, int at, int[] sc, int[] mn) {
        for (int j = 0; j < 4; j++) {
            int s = bytes[at + j] & 0xff;
            int m = bytes[at + 4 + j] & 0xff;
            int lowBits = bytes[at + 8 + j] & 0xff;
            sc[j] = s & 0x3f;
            mn[j] = m & 0x3f;
            sc[j + 4] = (lowBits & 0x0f) + 16 * (s >> 6);
            mn[j + 4] = (lowBits >> 4) + 16 * (m >> 6);
        }
    }

    private static float half(ByteBuffer b, int at) {
        return Float16.toFloat(b.getShort(at));
    }
}
