package dev.icecache.operators.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;

import dev.icecache.kvcache.page.PageFormat;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/**
 * Formats of stored pages: v1 read from a file written by an independent writer (Python struct),
 * v2 (the current one) against bytes spelled out here from the documented layout.
 */
class PageSerializerGoldenTest {

    /** What golden/page-v1/page-2x3.golden holds: validRows 2, headDim 3, K rows then V rows. */
    private static final float[] GOLDEN_ROWS = {1.0f, -2.5f, Float.NaN, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, -0.0f, Float.MIN_VALUE, Float.MAX_VALUE, 0.1f, -7.25f, 65504.0f, 0x1p-20f};

    @Test
    void shouldReadTheVersion1GoldenPage() throws IOException {
        TypeSerializer<StoredPage> v1 = restoredFrom(1);
        StoredPage page = v1.deserialize(new DataInputDeserializer(golden()));
        assertEquals(new StoredPage(2, 3, GOLDEN_ROWS), page);
    }

    @Test
    void shouldWriteExactlyTheVersion1GoldenBytes() throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        PageSerializer.V1.serialize(new StoredPage(2, 3, GOLDEN_ROWS), out);
        assertArrayEquals(golden(), out.getCopyOfBuffer());
    }

    @Test
    void shouldWriteVersion2F32AsTheVersion1BytesWithAFormatByte() throws IOException {
        byte[] v1 = golden();
        byte[] expected = new byte[v1.length + 1];
        System.arraycopy(v1, 0, expected, 0, 8);
        expected[8] = 0; // format code 0 = F32
        System.arraycopy(v1, 8, expected, 9, v1.length - 8);
        DataOutputSerializer out = new DataOutputSerializer(64);
        PageSerializer.INSTANCE.serialize(new StoredPage(2, 3, GOLDEN_ROWS), out);
        assertArrayEquals(expected, out.getCopyOfBuffer());
    }

    @Test
    void shouldWriteBf16PagesInTwoBytesAValue() throws IOException {
        // validRows 1, headDim 2: K = (1.0, -2.0), V = (0.5, +Inf)
        float[] rows = {1.0f, -2.0f, 0.5f, Float.POSITIVE_INFINITY};
        byte[] expected = {0, 0, 0, 1, 0, 0, 0, 2, 1, 0x3f, (byte) 0x80, (byte) 0xc0, 0x00, 0x3f, 0x00, 0x7f,
            (byte) 0x80};
        DataOutputSerializer out = new DataOutputSerializer(64);
        StoredPage page = new StoredPage(1, 2, rows, PageFormat.BF16);
        PageSerializer.INSTANCE.serialize(page, out);
        assertArrayEquals(expected, out.getCopyOfBuffer());
        assertEquals(page, PageSerializer.INSTANCE.deserialize(new DataInputDeserializer(expected)));
        DataOutputSerializer copied = new DataOutputSerializer(64);
        PageSerializer.INSTANCE.copy(new DataInputDeserializer(expected), copied);
        assertArrayEquals(expected, copied.getCopyOfBuffer());
    }

    @Test
    void shouldRejectAnUnknownFormatCode() {
        byte[] bytes = {0, 0, 0, 1, 0, 0, 0, 1, 9, 0, 0, 0, 0};
        IOException e = assertThrows(IOException.class,
                () -> PageSerializer.INSTANCE.deserialize(new DataInputDeserializer(bytes)));
        assertTrue(e.getMessage().contains("format=9"), e.getMessage());
    }

    @Test
    void shouldRejectAValueThatIsNotBf16InABf16Page() {
        assertThrows(IllegalArgumentException.class, () -> new StoredPage(1, 1, new float[] {0.1f, 1f},
                PageFormat.BF16));
    }

    @Test
    void shouldMigrateVersion1StateToVersion2() throws IOException {
        TypeSerializerSnapshot<StoredPage> current = PageSerializer.INSTANCE.snapshotConfiguration();
        TypeSerializerSnapshot<StoredPage> old = readSnapshot(1);
        assertTrue(current.resolveSchemaCompatibility(old).isCompatibleAfterMigration());
        assertTrue(current.resolveSchemaCompatibility(readSnapshot(2)).isCompatibleAsIs());
        // migration = read with the restored v1 serializer, write with the current one
        StoredPage page = old.restoreSerializer().deserialize(new DataInputDeserializer(golden()));
        DataOutputSerializer out = new DataOutputSerializer(64);
        PageSerializer.INSTANCE.serialize(page, out);
        assertEquals(page, PageSerializer.INSTANCE.deserialize(new DataInputDeserializer(out.getCopyOfBuffer())));
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

    private static TypeSerializer<StoredPage> restoredFrom(int version) throws IOException {
        return readSnapshot(version).restoreSerializer();
    }

    private static TypeSerializerSnapshot<StoredPage> readSnapshot(int version) throws IOException {
        PageSerializer.PageSerializerSnapshot snapshot = new PageSerializer.PageSerializerSnapshot();
        snapshot.readSnapshot(version, new DataInputDeserializer(new byte[0]), PageSerializerGoldenTest.class.getClassLoader());
        return snapshot;
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
