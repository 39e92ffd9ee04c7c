package dev.icecache.model.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link FloatTensor#rawBytes()}: exactly the stored bytes, read-only, independent of the tensor. */
class RawBytesTest {

    private static final long SEED = 20261128L;

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void shouldReturnExactlyTheBytesTheTensorWasBuiltFrom(GgmlType type) {
        int n = 3 * type.blockSize();
        ByteBuffer stored = encoded(type, n, SEED + type.ordinal());
        byte[] expected = new byte[stored.remaining()];
        stored.duplicate().get(expected);
        // the tensor sits after 7 bytes of something else, as a tensor does inside a mapped file
        ByteBuffer file = ByteBuffer.allocateDirect(7 + expected.length + 5);
        file.position(7);
        file.put(expected);
        file.position(7).limit(7 + expected.length);
        FloatTensor t = FloatTensor.of("w", type, file, n);

        ByteBuffer raw = t.rawBytes();
        assertEquals(type.byteSizeFor(n), raw.remaining(), type + " byte count");
        assertEquals(0, raw.position());
        assertTrue(raw.isReadOnly(), "rawBytes must be read-only");
        assertTrue(raw.isDirect(), "a view of direct data stays direct (no copy)");
        assertEquals(ByteOrder.LITTLE_ENDIAN, raw.order());
        byte[] got = new byte[raw.remaining()];
        raw.get(got);
        assertEquals(java.util.Arrays.toString(expected), java.util.Arrays.toString(got), type + " bytes, seed=" + SEED);
        assertThrows(ReadOnlyBufferException.class, () -> t.rawBytes().put(0, (byte) 1));
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void shouldLeaveTheTensorReadableWhateverTheCallerDoesWithTheView(GgmlType type) {
        int n = 2 * type.blockSize();
        FloatTensor t = FloatTensor.of("w", type, encoded(type, n, SEED), n);
        float[] before = new float[n];
        t.copyTo(0, before, 0, n);
        ByteBuffer raw = t.rawBytes();
        raw.position(raw.limit() / 2).order(ByteOrder.BIG_ENDIAN);
        float[] after = new float[n];
        t.copyTo(0, after, 0, n);
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToIntBits(before[i]), Float.floatToIntBits(after[i]), type + " element " + i);
        }
        assertEquals(0, t.rawBytes().position(), "each call is a fresh view");
    }

    private static ByteBuffer encoded(GgmlType type, int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextDouble() * 4 - 2);
        }
        ByteBuffer b = ByteBuffer.allocate((int) type.byteSizeFor(n)).order(ByteOrder.LITTLE_ENDIAN);
        Quantizer.encode(type, values, n, b);
        return b.flip();
    }
}
