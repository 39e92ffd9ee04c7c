package dev.icecache.kvcache.page;

import dev.icecache.kvcache.Checks;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Compact, versioned bytes of one page block, for stores that keep pages as values (the Flink
 * RocksDB store, checkpoints): only the valid rows are written.
 *
 * <pre>
 *   v1, little-endian:
 *   | version (1 B) = 1 | format (1 B): 0 F32, 1 BF16 | rowsPerPage (u16) | headDim (u16) | validRows (u16) |
 *   | K rows 0..validRows-1 | V rows 0..validRows-1 |   each float as F32 (4 B) or BF16 (2 B)
 *   size = 8 + 2 * validRows * headDim * bytesPerFloat
 * </pre>
 *
 * Decoding treats the bytes as untrusted: every count is checked against the reader's layout and
 * the byte length, in long arithmetic, before anything is read.
 */
public final class PageCodec {

    /** The version this class writes. */
    public static final int VERSION = 1;
    private static final int HEADER_BYTES = 8;

    private PageCodec() {
    }

    /** Bytes of the block at {@code src[srcOff]} with {@code validRows} rows, in {@code format}. */
    public static byte[] encode(PageLayout layout, PageFormat format, float[] src, int srcOff, int validRows) {
        layout.checkValidRows(validRows);
        Checks.checkRange(srcOff, layout.floatsPerPage(), src.length);
        Checks.checkArgument(layout.rowsPerPage() <= 0xffff && layout.headDim() <= 0xffff,
                "layout %s does not fit the v1 header", layout);
        int floats = validRows * layout.headDim();
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + 2 * floats * format.bytesPerFloat())
                .order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) VERSION).put((byte) format.ordinal()).putShort((short) layout.rowsPerPage())
                .putShort((short) layout.headDim()).putShort((short) validRows);
        putRows(b, format, src, srcOff + layout.keyOffset(0), floats);
        putRows(b, format, src, srcOff + layout.valueOffset(0), floats);
        return b.array();
    }

    /**
     * Decodes page bytes into a whole block at {@code dst[dstOff]} (rows past the valid ones zero).
     *
     * @return the valid-row count
     * @throws IllegalArgumentException naming the field when the bytes are corrupt or were written
     *         for another layout
     */
    public static int decode(byte[] bytes, PageLayout layout, float[] dst, int dstOff) {
        Checks.checkArgument(bytes != null, "page bytes must not be null");
        Checks.checkRange(dstOff, layout.floatsPerPage(), dst.length);
        Checks.checkArgument(bytes.length >= HEADER_BYTES, "page bytes truncated: length=%d < header=%d",
                bytes.length, HEADER_BYTES);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int version = b.get() & 0xff;
        Checks.checkArgument(version == VERSION, "page bytes version=%d unsupported (expected %d)", version, VERSION);
        int formatId = b.get() & 0xff;
        Checks.checkArgument(formatId < PageFormat.values().length, "page bytes format=%d unknown", formatId);
        PageFormat format = PageFormat.values()[formatId];
        int rows = b.getShort() & 0xffff;
        int headDim = b.getShort() & 0xffff;
        int validRows = b.getShort() & 0xffff;
        Checks.checkArgument(rows == layout.rowsPerPage() && headDim == layout.headDim(),
                "page bytes have rowsPerPage=%d headDim=%d but the reader's layout is %s", rows, headDim, layout);
        Checks.checkArgument(validRows <= rows, "page bytes validRows=%d exceed rowsPerPage=%d", validRows, rows);
        long expected = HEADER_BYTES + 2L * validRows * headDim * format.bytesPerFloat();
        Checks.checkArgument(bytes.length == expected, "page bytes length=%d but header says %d; page corrupt",
                bytes.length, expected);
        int floats = validRows * headDim;
        java.util.Arrays.fill(dst, dstOff, dstOff + layout.floatsPerPage(), 0f);
        getRows(b, format, dst, dstOff + layout.keyOffset(0), floats);
        getRows(b, format, dst, dstOff + layout.valueOffset(0), floats);
        return validRows;
    }

    private static void putRows(ByteBuffer b, PageFormat format, float[] src, int off, int n) {
        for (int i = 0; i < n; i++) {
            if (format == PageFormat.F32) {
                b.putFloat(src[off + i]);
            } else {
                b.putShort(PageFormat.narrow(src[off + i]));
            }
        }
    }

    private static void getRows(ByteBuffer b, PageFormat format, float[] dst, int off, int n) {
        for (int i = 0; i < n; i++) {
            dst[off + i] = format == PageFormat.F32 ? b.getFloat() : PageFormat.widen(b.getShort());
        }
    }
}
