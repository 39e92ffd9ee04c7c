package dev.icecache.kvcache.page;

import dev.icecache.kvcache.Checks;
import java.util.Arrays;

/**
 * A {@link PageStore} on the Java heap: one array per stored page (float[] for F32, short[] for
 * BF16, sized for the whole block), found through a {@link LongIntMap} from the packed
 * {@link PageKey} to an entry index; freed entries are reused.
 */
public final class InMemoryPageStore implements PageStore {

    private final PageLayout layout;
    private final PageFormat format;
    private final LongIntMap entryOf = new LongIntMap(64);
    private float[][] f32Blocks = new float[16][];  // [entry][floatsPerPage] when format == F32
    private short[][] bf16Blocks = new short[16][]; // [entry][floatsPerPage] when format == BF16
    private int[] validRows = new int[16];           // [entry]
    private int[] freeEntries = new int[16];         // stack of released entry indices
    private int freeCount;
    private int entryLimit;                          // entries ever used
    private boolean closed;

    /** An empty store for blocks of {@code layout} kept in {@code format}. */
    public InMemoryPageStore(PageLayout layout, PageFormat format) {
        Checks.checkArgument(layout != null && format != null, "layout and format must not be null");
        this.layout = layout;
        this.format = format;
    }

    @Override
    public PageLayout layout() {
        return layout;
    }

    @Override
    public PageFormat format() {
        return format;
    }

    @Override
    public int read(int layer, int kvHead, int pageId, float[] dst, int dstOff) {
        checkOpen();
        int fpp = layout.floatsPerPage();
        Checks.checkRange(dstOff, fpp, dst.length);
        int e = entryOf.get(PageKey.of(layer, kvHead, pageId));
        if (e == LongIntMap.MISSING) {
            return ABSENT;
        }
        if (format == PageFormat.F32) {
            System.arraycopy(f32Blocks[e], 0, dst, dstOff, fpp);
        } else {
            short[] b = bf16Blocks[e];
            for (int i = 0; i < fpp; i++) {
                dst[dstOff + i] = PageFormat.widen(b[i]);
            }
        }
        return validRows[e];
    }

    @Override
    public void write(int layer, int kvHead, int pageId, float[] src, int srcOff, int rows) {
        checkOpen();
        layout.checkValidRows(rows);
        Checks.checkRange(srcOff, layout.floatsPerPage(), src.length);
        long key = PageKey.of(layer, kvHead, pageId);
        int e = entryOf.get(key);
        if (e == LongIntMap.MISSING) {
            e = newEntry();
            entryOf.put(key, e);
        }
        validRows[e] = rows;
        int kRows = rows * layout.headDim();
        copyRows(src, srcOff + layout.keyOffset(0), e, layout.keyOffset(0), kRows);
        copyRows(src, srcOff + layout.valueOffset(0), e, layout.valueOffset(0), kRows);
    }

    /**
     * {@link #write} of the changed rows only, over the block this store holds: a page move changes
     * a few rows of each page it touches, and narrowing every row of those pages to BF16 again was
     * about a third of a 64k prefill block's appends (BENCHMARKS.md, issue 13, twentieth session).
     * Rows from the new valid count up to the old one are zeroed, as {@link #write} leaves them.
     */
    @Override
    public void writeRows(int layer, int kvHead, int pageId, float[] src, int srcOff, int rows, long changedRows) {
        checkOpen();
        layout.checkValidRows(rows);
        Checks.checkRange(srcOff, layout.floatsPerPage(), src.length);
        int e = entryOf.get(PageKey.of(layer, kvHead, pageId));
        if (e == LongIntMap.MISSING) {
            write(layer, kvHead, pageId, src, srcOff, rows);
            return;
        }
        int headDim = layout.headDim();
        for (int r = 0; r < rows; r++) {
            if (r < Long.SIZE && (changedRows & (1L << r)) == 0) {
                continue;
            }
            copyRow(src, srcOff + layout.keyOffset(r), e, layout.keyOffset(r), headDim);
            copyRow(src, srcOff + layout.valueOffset(r), e, layout.valueOffset(r), headDim);
        }
        int old = validRows[e];
        if (old > rows) {
            zeroRows(e, layout.keyOffset(rows), (old - rows) * headDim);
            zeroRows(e, layout.valueOffset(rows), (old - rows) * headDim);
        }
        validRows[e] = rows;
    }

    /** Copies {@code n} floats to entry {@code e} at {@code at}, narrowed where the store keeps BF16. */
    private void copyRow(float[] src, int srcOff, int e, int at, int n) {
        if (format == PageFormat.F32) {
            System.arraycopy(src, srcOff, f32Blocks[e], at, n);
        } else {
            short[] b = bf16Blocks[e];
            for (int i = 0; i < n; i++) {
                b[at + i] = PageFormat.narrow(src[srcOff + i]);
            }
        }
    }

    /** Zeroes {@code n} elements of entry {@code e} from {@code at}. */
    private void zeroRows(int e, int at, int n) {
        if (format == PageFormat.F32) {
            Arrays.fill(f32Blocks[e], at, at + n, 0f);
        } else {
            Arrays.fill(bf16Blocks[e], at, at + n, (short) 0);
        }
    }

    @Override
    public boolean delete(int layer, int kvHead, int pageId) {
        checkOpen();
        int e = entryOf.remove(PageKey.of(layer, kvHead, pageId));
        if (e == LongIntMap.MISSING) {
            return false;
        }
        if (freeCount == freeEntries.length) {
            freeEntries = Arrays.copyOf(freeEntries, freeCount * 2);
        }
        freeEntries[freeCount++] = e;
        return true;
    }

    @Override
    public int pageCount() {
        return entryOf.size();
    }

    @Override
    public void close() {
        closed = true;
        f32Blocks = null;
        bf16Blocks = null;
    }

    /** Copies {@code n} floats to entry {@code e} at {@code at} and zeroes the rest of that half-block. */
    private void copyRows(float[] src, int srcOff, int e, int at, int n) {
        int half = layout.rowsPerPage() * layout.headDim();
        copyRow(src, srcOff, e, at, n);
        zeroRows(e, at + n, half - n);
    }

    private int newEntry() {
        if (freeCount > 0) {
            return freeEntries[--freeCount];
        }
        if (entryLimit == validRows.length) {
            int cap = Math.multiplyExact(validRows.length, 2);
            f32Blocks = Arrays.copyOf(f32Blocks, cap);
            bf16Blocks = Arrays.copyOf(bf16Blocks, cap);
            validRows = Arrays.copyOf(validRows, cap);
        }
        int e = entryLimit++;
        if (format == PageFormat.F32) {
            f32Blocks[e] = new float[layout.floatsPerPage()];
        } else {
            bf16Blocks[e] = new short[layout.floatsPerPage()];
        }
        return e;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("InMemoryPageStore is closed");
        }
    }
}
