package dev.icecache.operators.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;

import dev.icecache.kvcache.page.PageFormat;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/** {@link PagePatchSerializer}: literal bytes of format v1, round trip, copy, corrupt headers. */
class PagePatchSerializerTest {

    private static PagePatch patch() {
        // rows 1 and 3 of a 5-row page, head dim 2, BF16
        return new PagePatch(5, 0b1010, new StoredPage(2, 2, new float[] {1f, -2f, 0.5f, 3f, 4f, 5f, 6f, -0.25f},
                PageFormat.BF16));
    }

    @Test
    void shouldWriteTheDocumentedBytesAndReadThemBack() throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        PagePatchSerializer.INSTANCE.serialize(patch(), out);
        byte[] bytes = out.getCopyOfBuffer();
        // validRows 5, slots 0b1010, then the rows as a v2 page: 2 rows, head dim 2, BF16 (code 1), 8 bf16 values
        byte[] head = {0, 0, 0, 5, 0, 0, 0, 10, 0, 0, 0, 2, 0, 0, 0, 2, 1, 0x3f, (byte) 0x80, (byte) 0xc0, 0};
        assertEquals(8 + 9 + 16, bytes.length);
        assertArrayEquals(head, java.util.Arrays.copyOf(bytes, head.length));
        PagePatch back = PagePatchSerializer.INSTANCE.deserialize(new DataInputDeserializer(bytes));
        assertEquals(patch(), back);

        DataOutputSerializer copied = new DataOutputSerializer(64);
        PagePatchSerializer.INSTANCE.copy(new DataInputDeserializer(bytes), copied);
        assertArrayEquals(bytes, copied.getCopyOfBuffer());
    }

    @Test
    void shouldRejectCorruptHeadersBeforeAllocating() throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        PagePatchSerializer.INSTANCE.serialize(patch(), out);
        byte[] slotsPastRows = out.getCopyOfBuffer();
        slotsPastRows[7] = 0b100000; // row 5 of a 5-row page
        IOException e = assertThrows(IOException.class,
                () -> PagePatchSerializer.INSTANCE.deserialize(new DataInputDeserializer(slotsPastRows)));
        assertTrue(e.getMessage().contains("slots=0x20"), e.getMessage());

        byte[] countMismatch = out.getCopyOfBuffer();
        countMismatch[7] = 0b1110; // three slots, two rows stored
        e = assertThrows(IOException.class,
                () -> PagePatchSerializer.INSTANCE.deserialize(new DataInputDeserializer(countMismatch)));
        assertTrue(e.getMessage().contains("names 3 rows but holds 2"), e.getMessage());

        byte[] hugeRows = out.getCopyOfBuffer();
        hugeRows[0] = 0x7f;
        e = assertThrows(IOException.class,
                () -> PagePatchSerializer.INSTANCE.deserialize(new DataInputDeserializer(hugeRows)));
        assertTrue(e.getMessage().contains("validRows=2130706437"), e.getMessage());
    }

    @Test
    void shouldRefuseAnUnknownSnapshotVersion() {
        var snapshot = new PagePatchSerializer.PagePatchSerializerSnapshot();
        IOException e = assertThrows(IOException.class, () -> snapshot.readSnapshot(2, null, null));
        assertTrue(e.getMessage().contains("version=2 is unknown"), e.getMessage());
    }
}
