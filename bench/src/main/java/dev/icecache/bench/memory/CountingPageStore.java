package dev.icecache.bench.memory;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PageStore;

/**
 * A page store that counts the rows written to and read from another (bytes in the page format:
 * a BF16 row of head dim 64 is 2 x 64 x 2 = 256 bytes of K and V), for state-write and restore
 * figures. With {@code compare} on, each write first reads the stored page (measurement only: the
 * caches never read before writing) and counts the rows whose bytes differ or are new.
 */
final class CountingPageStore implements PageStore {

    private final PageStore inner;
    private final long rowBytes;
    long bytesWritten;
    long pagesWritten;
    long bytesRead;
    long pagesRead;
    long rowsChanged;
    boolean compare;
    private float[] old = new float[0];

    CountingPageStore(PageStore inner) {
        this.inner = inner;
        this.rowBytes = 2L * inner.layout().headDim() * inner.format().bytesPerFloat();
    }

    /** Zeroes the counters. */
    void reset() {
        bytesWritten = 0;
        pagesWritten = 0;
        bytesRead = 0;
        pagesRead = 0;
        rowsChanged = 0;
    }

    /** Bytes of the rows that changed in the writes since the last reset (with {@code compare} on). */
    long bytesChanged() {
        return rowsChanged * rowBytes;
    }

    @Override
    public PageLayout layout() {
        return inner.layout();
    }

    @Override
    public PageFormat format() {
        return inner.format();
    }

    @Override
    public int read(int layer, int kvHead, int pageId, float[] dst, int dstOff) {
        int rows = inner.read(layer, kvHead, pageId, dst, dstOff);
        if (rows != ABSENT) {
            pagesRead++;
            bytesRead += rows * rowBytes;
        }
        return rows;
    }

    @Override
    public void write(int layer, int kvHead, int pageId, float[] src, int srcOff, int validRows) {
        pagesWritten++;
        bytesWritten += validRows * rowBytes;
        if (compare) {
            rowsChanged += changedRows(layer, kvHead, pageId, src, srcOff, validRows);
        }
        inner.write(layer, kvHead, pageId, src, srcOff, validRows);
    }

    private int changedRows(int layer, int kvHead, int pageId, float[] src, int srcOff, int validRows) {
        PageLayout layout = inner.layout();
        if (old.length < layout.floatsPerPage()) {
            old = new float[layout.floatsPerPage()];
        }
        int stored = inner.read(layer, kvHead, pageId, old, 0);
        int d = layout.headDim();
        int changed = 0;
        for (int r = 0; r < validRows; r++) {
            boolean same = r < stored
                    && java.util.Arrays.equals(old, layout.keyOffset(r), layout.keyOffset(r) + d, src,
                            srcOff + layout.keyOffset(r), srcOff + layout.keyOffset(r) + d)
                    && java.util.Arrays.equals(old, layout.valueOffset(r), layout.valueOffset(r) + d, src,
                            srcOff + layout.valueOffset(r), srcOff + layout.valueOffset(r) + d);
            if (!same) {
                changed++;
            }
        }
        return changed;
    }

    @Override
    public boolean delete(int layer, int kvHead, int pageId) {
        return inner.delete(layer, kvHead, pageId);
    }

    @Override
    public int pageCount() {
        return inner.pageCount();
    }

    @Override
    public void close() {
        inner.close();
    }
}
