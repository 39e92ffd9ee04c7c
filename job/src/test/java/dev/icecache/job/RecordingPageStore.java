package dev.icecache.job;

import java.util.HashMap;
import java.util.Map;

import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageKey;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PageStore;

/** An in-memory page store that also remembers the valid rows of every page it holds. */
final class RecordingPageStore implements PageStore {

    private final InMemoryPageStore pages;
    final Map<Long, Integer> validRows = new HashMap<>();

    RecordingPageStore(PageLayout layout, PageFormat format) {
        this.pages = new InMemoryPageStore(layout, format);
    }

    @Override
    public PageLayout layout() {
        return pages.layout();
    }

    @Override
    public PageFormat format() {
        return pages.format();
    }

    @Override
    public int read(int layer, int kvHead, int pageId, float[] dst, int dstOff) {
        return pages.read(layer, kvHead, pageId, dst, dstOff);
    }

    @Override
    public void write(int layer, int kvHead, int pageId, float[] src, int srcOff, int validRows) {
        pages.write(layer, kvHead, pageId, src, srcOff, validRows);
        this.validRows.put(PageKey.of(layer, kvHead, pageId), validRows);
    }

    @Override
    public boolean delete(int layer, int kvHead, int pageId) {
        validRows.remove(PageKey.of(layer, kvHead, pageId));
        return pages.delete(layer, kvHead, pageId);
    }

    @Override
    public int pageCount() {
        return pages.pageCount();
    }

    @Override
    public void close() {
        pages.close();
    }

    long rows() {
        long n = 0;
        for (int r : validRows.values()) {
            n += r;
        }
        return n;
    }
}
