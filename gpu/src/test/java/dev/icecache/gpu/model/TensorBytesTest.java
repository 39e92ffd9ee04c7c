package dev.icecache.gpu.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.GgmlType;
import dev.icecache.model.tensor.Quantizer;

/** Upload bytes: stored bytes as they are (quantized blocks included), BF16 as F32, always direct. */
class TensorBytesTest {

    private static final long SEED = 808L;

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "Q8_0", "Q4_0"})
    void shouldUploadTheStoredBytesUnchanged(GgmlType type) {
        for (boolean direct : new boolean[] {false, true}) {
            ByteBuffer stored = encoded(type, 128, SEED, direct);
            byte[] expected = bytesOf(stored);
            TensorBytes b = TensorBytes.of(FloatTensor.of("w", type, stored, 128));
            assertEquals(type, b.type());
            assertTrue(b.bytes().isDirect(), "the driver copies from a direct buffer");
            assertArrayEquals(expected, bytesOf(b.bytes()), type + (direct ? " direct" : " heap") + ", seed=" + SEED);
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"BF16"})
    void shouldDecodeBf16ToF32BecauseNoKernelReadsIt(GgmlType type) {
        FloatTensor t = FloatTensor.of("w", type, encoded(type, 64, SEED, false), 64);
        TensorBytes b = TensorBytes.of(t);
        assertEquals(GgmlType.F32, b.type());
        assertTrue(b.bytes().isDirect());
        ByteBuffer f = b.bytes().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(64 * Float.BYTES, f.remaining());
        for (int i = 0; i < 64; i++) {
            assertEquals(Float.floatToIntBits(t.getFloat(i)), Float.floatToIntBits(f.getFloat(i * Float.BYTES)),
                    "element " + i + ", seed=" + SEED);
        }
    }

    private static ByteBuffer encoded(GgmlType type, int n, long seed, boolean direct) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextDouble() * 6 - 3);
        }
        int bytes = (int) type.byteSizeFor(n);
        ByteBuffer b = (direct ? ByteBuffer.allocateDirect(bytes) : ByteBuffer.allocate(bytes)).order(ByteOrder.LITTLE_ENDIAN);
        Quantizer.encode(type, values, n, b);
        return b.flip();
    }

    private static byte[] bytesOf(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
