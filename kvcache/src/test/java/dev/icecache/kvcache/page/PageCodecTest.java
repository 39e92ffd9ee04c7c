package dev.icecache.kvcache.page;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PageCodecTest {

    @Test
    void shouldWriteTheDocumentedV1Bytes() {
        PageLayout l = new PageLayout(2, 2);
        float[] block = {1f, -2f, 7f, 7f, /* V */ 0.5f, -0.0f, 7f, 7f};
        byte[] bytes = PageCodec.encode(l, PageFormat.BF16, block, 0, 1);
        // header: version 1, format 1 (BF16), rows 2, headDim 2, validRows 1; then K row 0, V row 0 as BF16
        // 1.0 = 0x3F80, -2.0 = 0xC000, 0.5 = 0x3F00, -0.0 = 0x8000, little-endian
        byte[] expected = {1, 1, 2, 0, 2, 0, 1, 0,
                           (byte) 0x80, 0x3f, 0x00, (byte) 0xc0,
                           0x00, 0x3f, 0x00, (byte) 0x80};
        assertArrayEquals(expected, bytes);
    }

    @Test
    void shouldRoundTripValidRowsInBothFormats() {
        PageLayout l = PageLayout.of(8);
        SplittableRandom rnd = new SplittableRandom(4);
        for (PageFormat f : PageFormat.values()) {
            for (int valid = 0; valid <= 16; valid++) {
                float[] src = new float[l.floatsPerPage()];
                for (int i = 0; i < src.length; i++) {
                    src[i] = (float) rnd.nextGaussian();
                }
                float[] dst = new float[l.floatsPerPage()];
                java.util.Arrays.fill(dst, 5f);
                assertEquals(valid, PageCodec.decode(PageCodec.encode(l, f, src, 0, valid), l, dst, 0));
                for (int r = 0; r < 16; r++) {
                    for (int d = 0; d < 8; d++) {
                        float wantK = r < valid ? f.roundTrip(src[l.keyOffset(r) + d]) : 0f;
                        float wantV = r < valid ? f.roundTrip(src[l.valueOffset(r) + d]) : 0f;
                        assertEquals(wantK, dst[l.keyOffset(r) + d], f + " valid=" + valid);
                        assertEquals(wantV, dst[l.valueOffset(r) + d], f + " valid=" + valid);
                    }
                }
            }
        }
    }

    @Test
    void shouldRejectCorruptBytesNamingTheField() {
        PageLayout l = new PageLayout(2, 2);
        float[] dst = new float[l.floatsPerPage()];
        byte[] good = PageCodec.encode(l, PageFormat.F32, new float[8], 0, 2);
        assertEquals("page bytes truncated: length=3 < header=8", assertThrows(IllegalArgumentException.class,
                () -> PageCodec.decode(new byte[3], l, dst, 0)).getMessage());
        byte[] badVersion = good.clone();
        badVersion[0] = 9;
        assertEquals("page bytes version=9 unsupported (expected 1)", assertThrows(IllegalArgumentException.class,
                () -> PageCodec.decode(badVersion, l, dst, 0)).getMessage());
        byte[] badRows = good.clone();
        badRows[6] = 3;
        assertEquals("page bytes validRows=3 exceed rowsPerPage=2", assertThrows(IllegalArgumentException.class,
                () -> PageCodec.decode(badRows, l, dst, 0)).getMessage());
        byte[] hugeRows = good.clone();
        hugeRows[2] = (byte) 0xff;
        hugeRows[3] = (byte) 0xff;
        assertThrows(IllegalArgumentException.class, () -> PageCodec.decode(hugeRows, l, dst, 0));
        byte[] cut = java.util.Arrays.copyOf(good, good.length - 1);
        assertEquals("page bytes length=39 but header says 40; page corrupt",
                assertThrows(IllegalArgumentException.class, () -> PageCodec.decode(cut, l, dst, 0)).getMessage());
        byte[] format = good.clone();
        format[1] = 7;
        assertEquals("page bytes format=7 unknown", assertThrows(IllegalArgumentException.class,
                () -> PageCodec.decode(format, l, dst, 0)).getMessage());
    }
}
