package dev.icecache.operators.state;

import java.util.HashMap;
import java.util.Map;

import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageKey;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PageStore;

import org.apache.flink.api.common.state.MapState;

/**
 * The slow tier of one document's cache in Flink keyed state: one {@link MapState} entry per
 * page, keyed by the packed {@link PageKey}, so RocksDB holds pages individually and an
 * incremental checkpoint ships only the pages that changed.
 *
 * <pre>
 *   write/delete ──► pending (heap, this element only) ──flush()──► MapState (RocksDB)
 *   read ─────────► pending first, then MapState
 * </pre>
 *
 * Writes are held until {@link #flush()}, which the operator calls at the end of every element
 * (chunk or decode slice), so a page rewritten many times in one element reaches RocksDB once
 * and a checkpoint barrier, which arrives between elements, always sees a consistent cache.
 *
 * <p>The map state is scoped to Flink's current key: use this store only while the owning
 * document is the current key (inside its element or timer). BF16 is honoured by rounding on
 * write and stored in 2 bytes a value ({@link PageSerializer} v2).
 */
public final class MapStatePageStore implements PageStore {

    private static final StoredPage DELETED = new StoredPage(0, 1, new float[0]);

    private final MapState<Long, StoredPage> pages;
    private final PageLayout layout;
    private final PageFormat format;
    private final Map<Long, StoredPage> pending = new HashMap<>();
    private int pageCount;
    private boolean closed;

    /**
     * @param pages the document's page map state (owned by the operator)
     * @param layout block layout exchanged with the cache
     * @param format rounding applied on write
     * @param pageCount pages already in {@code pages} (from the document's progress state)
     */
    public MapStatePageStore(MapState<Long, StoredPage> pages, PageLayout layout, PageFormat format, int pageCount) {
        Checks.checkArgument(pageCount >= 0, "pageCount=%d must be >= 0", pageCount);
        this.pages = pages;
        this.layout = layout;
        this.format = format;
        this.pageCount = pageCount;
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
        Checks.checkRange(dstOff, layout.floatsPerPage(), dst.length);
        StoredPage page = lookup(PageKey.of(layer, kvHead, pageId));
        if (page == null) {
            return ABSENT;
        }
        int half = layout.rowsPerPage() * layout.headDim();
        int valid = page.validRows() * layout.headDim();
        System.arraycopy(page.rows(), page.keyOffset(0), dst, dstOff + layout.keyOffset(0), valid);
        java.util.Arrays.fill(dst, dstOff + layout.keyOffset(0) + valid, dstOff + layout.keyOffset(0) + half, 0f);
        System.arraycopy(page.rows(), page.valueOffset(0), dst, dstOff + layout.valueOffset(0), valid);
        java.util.Arrays.fill(dst, dstOff + layout.valueOffset(0) + valid, dstOff + layout.valueOffset(0) + half, 0f);
        return page.validRows();
    }

    @Override
    public void write(int layer, int kvHead, int pageId, float[] src, int srcOff, int validRows) {
        checkOpen();
        layout.checkValidRows(validRows);
        Checks.checkRange(srcOff, layout.floatsPerPage(), src.length);
        int hd = layout.headDim();
        float[] rows = new float[2 * validRows * hd];
        for (int i = 0; i < validRows * hd; i++) {
            rows[i] = format.roundTrip(src[srcOff + layout.keyOffset(0) + i]);
            rows[validRows * hd + i] = format.roundTrip(src[srcOff + layout.valueOffset(0) + i]);
        }
        long key = PageKey.of(layer, kvHead, pageId);
        if (lookup(key) == null) {
            pageCount++;
        }
        pending.put(key, new StoredPage(validRows, hd, rows, format));
    }

    @Override
    public boolean delete(int layer, int kvHead, int pageId) {
        checkOpen();
        long key = PageKey.of(layer, kvHead, pageId);
        if (lookup(key) == null) {
            return false;
        }
        pending.put(key, DELETED);
        pageCount--;
        return true;
    }

    @Override
    public int pageCount() {
        return pageCount;
    }

    /** Pages written or deleted since the last {@link #flush()}. */
    public int pendingCount() {
        return pending.size();
    }

    /** Writes every pending change into the map state; call at the end of each element. */
    public void flush() {
        checkOpen();
        try {
            for (Map.Entry<Long, StoredPage> e : pending.entrySet()) {
                if (e.getValue() == DELETED) {
                    pages.remove(e.getKey());
                } else {
                    pages.put(e.getKey(), e.getValue());
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("writing " + pending.size() + " KV pages to keyed state failed", e);
        }
        pending.clear();
    }

    /** Drops pending changes; the store is unusable afterwards. Flush first to keep them. */
    @Override
    public void close() {
        pending.clear();
        closed = true;
    }

    private StoredPage lookup(long key) {
        StoredPage p = pending.get(key);
        if (p != null) {
            return p == DELETED ? null : p;
        }
        try {
            return pages.get(key);
        } catch (Exception e) {
            throw new IllegalStateException("reading KV page layer=" + PageKey.layer(key) + " kvHead="
                    + PageKey.kvHead(key) + " pageId=" + PageKey.pageId(key) + " from keyed state failed", e);
        }
    }

    private void checkOpen() {
        Checks.checkState(!closed, "MapStatePageStore is closed");
    }
}
