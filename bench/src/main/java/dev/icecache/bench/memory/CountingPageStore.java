package dev.icecache.bench.memory;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PageStore;

/**
 * A page store that counts the rows written to and read from another (bytes in the page format:
 * a BF16 row of head dim 64 is 2 x 64 x 2 = 256 bytes of K and V), for state-write and restore figures.
 */
final class CountingPageStore implements PageStore {

    private final PageStore inner;
    private final long rowBytes;
    long bytesWritten;
    long pagesWritten;
    long bytesRead;
    long pagesRead;

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
        inner.write(layer, kvHead, pageId, src, srcOff, validRows);
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
