package dev.icecache.kvcache.page;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MappedFilePageStoreTest extends PageStoreContract {

    @TempDir
    Path dir;
    private int files;

    @Override
    protected PageStore newStore(PageLayout layout, PageFormat format) {
        // a tiny chunk (about two slots) so that growth by remapping is exercised by every test
        long chunk = 2 * (16 + layout.bytesPerPage(format));
        return new MappedFilePageStore(dir.resolve("pages-" + files++ + ".bin"), layout, format, chunk);
    }

    @Test
    void shouldWriteTheDocumentedFileHeaderWithTheFormatCode() throws java.io.IOException {
        Path file = dir.resolve("header.bin");
        new MappedFilePageStore(file, new PageLayout(16, 4), PageFormat.BF16, 4096).close();
        byte[] head = java.util.Arrays.copyOf(java.nio.file.Files.readAllBytes(file), 32);
        byte[] expected = {'I', 'C', 'P', 'G', 1, 0, 0, 0, 16, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, // BF16 = code 1
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        assertArrayEquals(expected, head);
    }

    @Test
    void shouldFindEveryPageAgainAfterReopening() {
        PageLayout l = new PageLayout(16, 4);
        Path file = dir.resolve("reopen.bin");
        float[] b = new float[l.floatsPerPage()];
        try (MappedFilePageStore s = new MappedFilePageStore(file, l, PageFormat.BF16, 4096)) {
            for (int id = 0; id < 40; id++) {
                java.util.Arrays.fill(b, id);
                s.write(1, 0, id, b, 0, 1 + id % 16);
            }
            s.delete(1, 0, 7);
            assertTrue(s.mappedSlots() >= 40);
        }
        try (MappedFilePageStore s = new MappedFilePageStore(file, l, PageFormat.BF16, 4096)) {
            assertEquals(39, s.pageCount());
            float[] dst = new float[l.floatsPerPage()];
            assertEquals(PageStore.ABSENT, s.read(1, 0, 7, dst, 0));
            assertEquals(1 + 23 % 16, s.read(1, 0, 23, dst, 0));
            assertEquals(23f, dst[0]);
            assertEquals(23f, dst[l.valueOffset(0)]);
        }
    }

    @Test
    void shouldRefuseAFileWrittenWithAnotherLayout() {
        Path file = dir.resolve("other.bin");
        try (MappedFilePageStore s = new MappedFilePageStore(file, new PageLayout(16, 4), PageFormat.F32)) {
            s.write(0, 0, 0, new float[128], 0, 1);
        }
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> new MappedFilePageStore(file, new PageLayout(16, 8), PageFormat.F32));
        assertTrue(e.getMessage().contains("headDim=4"), e.getMessage());
    }

    @Test
    void shouldKeepPagesApartAcrossChunkBoundaries() {
        PageLayout l = new PageLayout(2, 2);
        try (MappedFilePageStore s = new MappedFilePageStore(dir.resolve("chunks.bin"), l, PageFormat.F32, 1)) {
            for (int id = 0; id < 10; id++) {
                s.write(0, 0, id, new float[] {id, id, id, id, -id, -id, -id, -id}, 0, 2);
            }
            assertEquals(10, s.mappedSlots());
            float[] dst = new float[8];
            for (int id = 0; id < 10; id++) {
                s.read(0, 0, id, dst, 0);
                assertArrayEquals(new float[] {id, id, id, id, -id, -id, -id, -id}, dst);
            }
        }
    }
}
