package dev.icecache.operators.state;

import java.util.HashMap;
import java.util.Map;

import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.page.LongIntMap;
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
 *
 * <p>A write never reads the map state: whether a key is new (for {@link #pageCount()}) comes
 * from the keys this store has seen. A store opened empty ({@code pageCount == 0}) knows every
 * key; a restored one asks the map state once per key, at that key's first write or delete.
 */
public final class MapStatePageStore implements PageStore {

    private static final StoredPage DELETED = new StoredPage(0, 1, new float[0]);

    private final MapState<Long, StoredPage> pages;
    private final PageLayout layout;
    private final PageFormat format;
    private final Map<Long, StoredPage> pending = new HashMap<>();
    /** Keys whose presence in the state (pending included) is known: 1 stored, 0 absent. */
    private final LongIntMap known = new LongIntMap(64);
    /** Whether the map state held nothing when this store was opened (then every unseen key is absent). */
    private final boolean openedEmpty;
    private int pageCount;
    private long bytesWritten;
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
        this.openedEmpty = pageCount == 0;
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
        if (!stored(key)) {
            pageCount++;
            known.put(key, 1);
        }
        pending.put(key, new StoredPage(validRows, hd, rows, format));
    }

    @Override
    public boolean delete(int layer, int kvHead, int pageId) {
        checkOpen();
        long key = PageKey.of(layer, kvHead, pageId);
        if (!stored(key)) {
            return false;
        }
        pending.put(key, DELETED);
        known.put(key, 0);
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

    /** Bytes of the pages this store has put into the map state (serialized size plus key), since it was opened. */
    public long bytesWritten() {
        return bytesWritten;
    }

    /** Heap bytes this store holds: the known-key table and the pages pending until the next flush. */
    public long retainedBytes() {
        long bytes = 16L * known.size() * 2; // open addressing at load <= 1/2: a long and an int per cell
        for (StoredPage p : pending.values()) {
            bytes += 16 + 4L * p.rows().length;
        }
        return bytes;
    }

    /** Bytes keyed state serializes for {@code page} under its 8-byte key ({@link PageSerializer}'s v1 format). */
    static long stateBytes(StoredPage page) {
        return Long.BYTES + 2 * Integer.BYTES + (long) Float.BYTES * page.rows().length;
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
                    bytesWritten += stateBytes(e.getValue());
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

    /** Whether {@code key} is stored (pending changes included), reading the map state at most once per key. */
    private boolean stored(long key) {
        int k = known.get(key);
        if (k != LongIntMap.MISSING) {
            return k == 1;
        }
        boolean present;
        if (openedEmpty) {
            present = false;
        } else {
            try {
                present = pages.contains(key);
            } catch (Exception e) {
                throw new IllegalStateException("reading KV page layer=" + PageKey.layer(key) + " kvHead="
                        + PageKey.kvHead(key) + " pageId=" + PageKey.pageId(key) + " from keyed state failed", e);
            }
        }
        known.put(key, present ? 1 : 0);
        return present;
    }

    private StoredPage lookup(long key) {
        StoredPage p = pending.get(key);
        if (p != null) {
            return p == DELETED ? null : p;
        }
        int k = known.get(key);
        if (k == 0 || (k == LongIntMap.MISSING && openedEmpty)) {
            return null; // known absent: no read
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
