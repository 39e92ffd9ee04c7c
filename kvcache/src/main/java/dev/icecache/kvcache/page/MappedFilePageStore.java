package dev.icecache.kvcache.page;

import dev.icecache.kvcache.Checks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * A {@link PageStore} in one memory-mapped file: a fixed-size slot per page, little-endian.
 * The file grows by mapping one more chunk of slots at a time (each chunk is its own mapping,
 * so no mapping exceeds the 2 GiB limit of a {@code MappedByteBuffer}). Reopening a file
 * rebuilds the page directory by scanning slot headers.
 *
 * <pre>
 *   file:  | header 32 B | chunk 0: slot 0 .. slot S-1 | chunk 1: slot S .. 2S-1 | ...
 *   header: magic "ICPG" (int), version (int), rowsPerPage (int), headDim (int), format (int), 12 B zero
 *   slot:  | key (long) | validRows + 1 (int; 0 = free) | 4 B zero | K rows, V rows (format) | pad to 8 |
 * </pre>
 *
 * Owner: whoever constructs it closes it; mappings are released by the garbage collector after
 * {@link #close()} (Java 17 has no explicit unmap).
 */
public final class MappedFilePageStore implements PageStore {

    private static final int MAGIC = 0x4750_4349; // "ICPG" read as little-endian int
    private static final int VERSION = 1;
    private static final int FILE_HEADER_BYTES = 32;
    private static final int SLOT_HEADER_BYTES = 16;
    /** Bytes mapped per growth step unless a slot is larger. */
    public static final long DEFAULT_CHUNK_BYTES = 8L << 20;

    private final PageLayout layout;
    private final PageFormat format;
    private final FileChannel channel;
    private final int slotBytes;
    private final int slotsPerChunk;
    private ByteBuffer[] chunks = new ByteBuffer[4]; // mapped chunks, little-endian
    private int chunkCount;
    private final LongIntMap slotOf = new LongIntMap(64);
    private int[] freeSlots = new int[16];            // stack of free slot indices
    private int freeCount;
    private boolean closed;

    /**
     * Opens (or creates) the store file at {@code path}. An existing file must have been written
     * with the same layout and format.
     *
     * @param chunkBytes bytes mapped per growth step (at least one slot is mapped)
     * @throws UncheckedIOException when the file cannot be opened, mapped, or is not a page store
     */
    public MappedFilePageStore(Path path, PageLayout layout, PageFormat format, long chunkBytes) {
        Checks.checkArgument(path != null && layout != null && format != null, "path, layout, format must not be null");
        Checks.checkArgument(chunkBytes > 0, "chunkBytes=%d must be > 0", chunkBytes);
        this.layout = layout;
        this.format = format;
        long slot = SLOT_HEADER_BYTES + layout.bytesPerPage(format);
        slot = (slot + 7) & ~7L;
        Checks.checkArgument(slot <= Integer.MAX_VALUE, "page of %d bytes is too large for one slot", slot);
        this.slotBytes = (int) slot;
        this.slotsPerChunk = (int) Math.max(1, Math.min(chunkBytes / slotBytes, Integer.MAX_VALUE / slotBytes));
        try {
            this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            if (channel.size() == 0) {
                writeFileHeader();
            } else {
                checkFileHeader(path);
                reopen();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open page store file " + path + ": " + e.getMessage(), e);
        }
    }

    /** Opens (or creates) {@code path} growing by {@link #DEFAULT_CHUNK_BYTES}. */
    public MappedFilePageStore(Path path, PageLayout layout, PageFormat format) {
        this(path, layout, format, DEFAULT_CHUNK_BYTES);
    }

    @Override
    public PageLayout layout() {
        return layout;
    }

    @Override
    public PageFormat format() {
        return format;
    }

    /** Slots currently mapped (used and free). */
    public int mappedSlots() {
        return chunkCount * slotsPerChunk;
    }

    @Override
    public int read(int layer, int kvHead, int pageId, float[] dst, int dstOff) {
        checkOpen();
        int fpp = layout.floatsPerPage();
        Checks.checkRange(dstOff, fpp, dst.length);
        int s = slotOf.get(PageKey.of(layer, kvHead, pageId));
        if (s == LongIntMap.MISSING) {
            return ABSENT;
        }
        ByteBuffer b = chunks[s / slotsPerChunk];
        int base = (s % slotsPerChunk) * slotBytes;
        int at = base + SLOT_HEADER_BYTES;
        if (format == PageFormat.F32) {
            for (int i = 0; i < fpp; i++) {
                dst[dstOff + i] = b.getFloat(at + 4 * i);
            }
        } else {
            for (int i = 0; i < fpp; i++) {
                dst[dstOff + i] = PageFormat.widen(b.getShort(at + 2 * i));
            }
        }
        return b.getInt(base + 8) - 1;
    }

    @Override
    public void write(int layer, int kvHead, int pageId, float[] src, int srcOff, int validRows) {
        checkOpen();
        layout.checkValidRows(validRows);
        Checks.checkRange(srcOff, layout.floatsPerPage(), src.length);
        long key = PageKey.of(layer, kvHead, pageId);
        int s = slotOf.get(key);
        if (s == LongIntMap.MISSING) {
            s = takeFreeSlot();
            slotOf.put(key, s);
        }
        ByteBuffer b = chunks[s / slotsPerChunk];
        int base = (s % slotsPerChunk) * slotBytes;
        b.putLong(base, key);
        b.putInt(base + 8, validRows + 1);
        int half = layout.rowsPerPage() * layout.headDim();
        int used = validRows * layout.headDim();
        int at = base + SLOT_HEADER_BYTES;
        writeHalf(b, at, src, srcOff + layout.keyOffset(0), used, half);
        writeHalf(b, at + half * format.bytesPerFloat(), src, srcOff + layout.valueOffset(0), used, half);
    }

    @Override
    public boolean delete(int layer, int kvHead, int pageId) {
        checkOpen();
        int s = slotOf.remove(PageKey.of(layer, kvHead, pageId));
        if (s == LongIntMap.MISSING) {
            return false;
        }
        chunks[s / slotsPerChunk].putInt((s % slotsPerChunk) * slotBytes + 8, 0);
        pushFree(s);
        return true;
    }

    @Override
    public int pageCount() {
        return slotOf.size();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        chunks = null;
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close page store file: " + e.getMessage(), e);
        }
    }

    private void writeHalf(ByteBuffer b, int at, float[] src, int srcOff, int used, int half) {
        if (format == PageFormat.F32) {
            for (int i = 0; i < half; i++) {
                b.putFloat(at + 4 * i, i < used ? src[srcOff + i] : 0f);
            }
        } else {
            for (int i = 0; i < half; i++) {
                b.putShort(at + 2 * i, i < used ? PageFormat.narrow(src[srcOff + i]) : 0);
            }
        }
    }

    private int takeFreeSlot() {
        if (freeCount == 0) {
            mapChunk();
            // push in reverse so slots are handed out in increasing order
            for (int s = mappedSlots() - 1; s >= mappedSlots() - slotsPerChunk; s--) {
                pushFree(s);
            }
        }
        return freeSlots[--freeCount];
    }

    private void pushFree(int slot) {
        if (freeCount == freeSlots.length) {
            freeSlots = Arrays.copyOf(freeSlots, freeCount * 2);
        }
        freeSlots[freeCount++] = slot;
    }

    private void mapChunk() {
        long chunkLength = (long) slotsPerChunk * slotBytes;
        long offset = FILE_HEADER_BYTES + chunkCount * chunkLength;
        try {
            MappedByteBuffer m = channel.map(FileChannel.MapMode.READ_WRITE, offset, chunkLength);
            if (chunkCount == chunks.length) {
                chunks = Arrays.copyOf(chunks, chunkCount * 2);
            }
            chunks[chunkCount++] = m.order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map page store chunk at offset=" + offset + " length="
                    + chunkLength + "; check free disk space: " + e.getMessage(), e);
        }
    }

    private void writeFileHeader() throws IOException {
        ByteBuffer h = ByteBuffer.allocate(FILE_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(MAGIC).putInt(VERSION).putInt(layout.rowsPerPage()).putInt(layout.headDim()).putInt(format.code());
        h.clear();
        channel.write(h, 0);
    }

    private void checkFileHeader(Path path) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(FILE_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        int n = channel.read(h, 0);
        if (n != FILE_HEADER_BYTES || h.getInt(0) != MAGIC) {
            throw new IOException("not a page store file (bad magic or short header): " + path);
        }
        int version = h.getInt(4);
        if (version != VERSION) {
            throw new IOException("page store file version=" + version + " unsupported (expected " + VERSION + ")");
        }
        int rows = h.getInt(8);
        int hd = h.getInt(12);
        int fmt = h.getInt(16);
        if (rows != layout.rowsPerPage() || hd != layout.headDim() || fmt != format.code()) {
            throw new IOException("page store file has rowsPerPage=" + rows + " headDim=" + hd + " format=" + fmt
                    + " but the store was opened with " + layout + " " + format + "; open it with its own layout");
        }
    }

    private void reopen() throws IOException {
        long chunkLength = (long) slotsPerChunk * slotBytes;
        long chunksInFile = (channel.size() - FILE_HEADER_BYTES) / chunkLength;
        if (chunksInFile > Integer.MAX_VALUE / slotsPerChunk) {
            throw new IllegalStateException(String.format("page store file too large: chunks=%d", chunksInFile));
        }
        for (int c = 0; c < chunksInFile; c++) {
            mapChunk();
        }
        for (int s = mappedSlots() - 1; s >= 0; s--) {
            ByteBuffer b = chunks[s / slotsPerChunk];
            int base = (s % slotsPerChunk) * slotBytes;
            int rowsPlusOne = b.getInt(base + 8);
            if (rowsPlusOne == 0) {
                pushFree(s);
            } else if (rowsPlusOne < 1 || rowsPlusOne > layout.rowsPerPage() + 1) {
                throw new IOException("page store slot=" + s + " has validRows=" + (rowsPlusOne - 1)
                        + " outside [0, " + layout.rowsPerPage() + "]; file corrupt");
            } else {
                slotOf.put(b.getLong(base), s);
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("MappedFilePageStore is closed");
        }
    }
}
