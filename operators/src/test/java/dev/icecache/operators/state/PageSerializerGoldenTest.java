package dev.icecache.operators.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;

import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/** Format v1 of stored pages, read from a file written by an independent writer (Python struct). */
class PageSerializerGoldenTest {

    /** What golden/page-v1/page-2x3.golden holds: validRows 2, headDim 3, K rows then V rows. */
    private static final float[] GOLDEN_ROWS = {1.0f, -2.5f, Float.NaN, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, -0.0f, Float.MIN_VALUE, Float.MAX_VALUE, 0.1f, -7.25f, 65504.0f, 0x1p-20f};

    @Test
    void shouldReadTheVersion1GoldenPage() throws IOException {
        StoredPage page = PageSerializer.INSTANCE.deserialize(new DataInputDeserializer(golden()));
        assertEquals(new StoredPage(2, 3, GOLDEN_ROWS), page);
    }

    @Test
    void shouldWriteExactlyTheVersion1GoldenBytes() throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        PageSerializer.INSTANCE.serialize(new StoredPage(2, 3, GOLDEN_ROWS), out);
        assertArrayEquals(golden(), out.getCopyOfBuffer());
    }

    @Test
    void shouldRejectACorruptRowCountBeforeAllocating() {
        byte[] bytes = golden();
        bytes[0] = 0x7f; // validRows becomes ~2^31
        IOException e = assertThrows(IOException.class,
                () -> PageSerializer.INSTANCE.deserialize(new DataInputDeserializer(bytes)));
        assertTrue(e.getMessage().contains("validRows="), e.getMessage());
    }

    @Test
    void shouldRejectACorruptHeadDimInRawCopy() {
        byte[] bytes = golden();
        bytes[4] = (byte) 0x80; // headDim becomes negative
        IOException e = assertThrows(IOException.class, () -> PageSerializer.INSTANCE.copy(
                new DataInputDeserializer(bytes), new DataOutputSerializer(64)));
        assertTrue(e.getMessage().contains("headDim="), e.getMessage());
    }

    @Test
    void shouldRefuseASnapshotVersionFromTheFuture() {
        TypeSerializerSnapshot<StoredPage> snapshot = new PageSerializer.PageSerializerSnapshot();
        assertThrows(IOException.class, () -> snapshot.readSnapshot(
                PageSerializer.PageSerializerSnapshot.CURRENT_VERSION + 1, new DataInputDeserializer(new byte[0]),
                getClass().getClassLoader()));
    }

    @Test
    void shouldResolveTheSameSnapshotAsCompatibleAsIs() {
        TypeSerializerSnapshot<StoredPage> snapshot = PageSerializer.INSTANCE.snapshotConfiguration();
        assertTrue(snapshot.resolveSchemaCompatibility(new PageSerializer.PageSerializerSnapshot()).isCompatibleAsIs());
    }

    private static byte[] golden() {
        try (InputStream in = PageSerializerGoldenTest.class.getResourceAsStream("/golden/page-v1/page-2x3.golden")) {
            if (in == null) {
                throw new IllegalStateException("golden/page-v1/page-2x3.golden missing from test resources");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read golden page file", e);
        }
    }
}
