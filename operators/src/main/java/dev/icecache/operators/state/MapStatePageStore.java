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
 * incremental checkpoint ships only the pages that changed; and, when the cache says which rows
 * of a page changed ({@link #writeRows}), a small {@link PagePatch} of those rows beside the page
 * instead of the whole page again.
 *
 * <pre>
 *   write/delete ──► pending (heap, this element only) ──flush()──► MapState (RocksDB)
 *   writeRows ─────► pending patch: the rows changed since the page was stored whole, while
 *                    they are at most a quarter of the page; else the whole page (patch dropped)
 *   read ──────────► pending first, then MapState; the page's patch applied over it
 * </pre>
 *
 * Writes are held until {@link #flush()}, which the operator calls at the end of every element
 * (chunk or decode slice), so a page rewritten many times in one element reaches RocksDB once.
 * A prefill chunk rewrites most pages of every tree, so the held pages are bounded
 * ({@link #MAX_PENDING_BYTES}, flushed early past it): a chunk of 2,700 tokens at 8k positions on
 * the 1B attention shape held about 360 MB of them on the heap, outside the memory budget.
 * Flushing inside an element is safe: a checkpoint barrier arrives only between elements, and a
 * failure rolls keyed state back to the last checkpoint, so it never sees a half-written element.
 * Why patches: a token entering the index lands in a page chosen by its key, so a 16-token decode
 * slice touches about 16 to 40 pages of every tree to add or move one or two rows in each; whole
 * pages made the state written per slice about 37 times the data it adds (BENCHMARKS.md).
 *
 * <p>The map states are scoped to Flink's current key: use this store only while the owning
 * document is the current key (inside its element or timer). BF16 is honoured by rounding on
 * write and stored in 2 bytes a value ({@link PageSerializer} v2).
 *
 * <p>A write never reads the map state: whether a key is new (for {@link #pageCount()}) and which
 * rows its patch holds come from the keys this store has seen. A store opened empty
 * ({@code pageCount == 0}) knows every key; a restored one asks the map states once per key, at
 * that key's first read, write or delete.
 */
public final class MapStatePageStore implements PageStore {

    /** Heap bytes of pending pages and patches past which they are flushed before the element ends. */
    public static final long MAX_PENDING_BYTES = 16L << 20;

    private static final StoredPage DELETED = new StoredPage(0, 1, new float[0]);
    private static final PagePatch NO_PATCH = new PagePatch(0, 0, DELETED);
    /** What {@link #known} says of a key: absent, stored whole, or (slots &lt;&lt; 2) | PATCHED. */
    private static final int ABSENT_KEY = 0;
    private static final int STORED = 1;
    private static final int PATCHED = 3;

    private final MapState<Long, StoredPage> pages;
    private final MapState<Long, PagePatch> patches;
    private final PageLayout layout;
    private final PageFormat format;
    /** Most rows a patch holds before the page is written whole instead. */
    private final int maxPatchRows;
    private final Map<Long, StoredPage> pending = new HashMap<>();
    private final Map<Long, PagePatch> pendingPatches = new HashMap<>();
    /** Keys whose state (pending included) is known: {@link #ABSENT_KEY}, {@link #STORED} or a patch's slots. */
    private final LongIntMap known = new LongIntMap(64);
    /** Whether the map state held nothing when this store was opened (then every unseen key is absent). */
    private final boolean openedEmpty;
    private int pageCount;
    private long pendingBytes;
    private long bytesWritten;
    private long wholePageBytesWritten;
    private boolean closed;

    /**
     * A store without patches: every write stores the whole page.
     *
     * @param pages the document's page map state (owned by the operator)
     * @param layout block layout exchanged with the cache
     * @param format rounding applied on write
     * @param pageCount pages already in {@code pages} (from the document's progress state)
     */
    public MapStatePageStore(MapState<Long, StoredPage> pages, PageLayout layout, PageFormat format, int pageCount) {
        this(pages, null, layout, format, pageCount);
    }

    /**
     * @param pages the document's page map state (owned by the operator)
     * @param patches the document's page-patch map state (owned by the operator), or null for none
     * @param layout block layout exchanged with the cache
     * @param format rounding applied on write
     * @param pageCount pages already in {@code pages} (from the document's progress state)
     */
    public MapStatePageStore(MapState<Long, StoredPage> pages, MapState<Long, PagePatch> patches, PageLayout layout,
                             PageFormat format, int pageCount) {
        Checks.checkArgument(pageCount >= 0, "pageCount=%d must be >= 0", pageCount);
        this.pages = pages;
        this.patches = patches;
        this.layout = layout;
        this.format = format;
        this.pageCount = pageCount;
        this.openedEmpty = pageCount == 0;
        this.maxPatchRows = patches == null || layout.rowsPerPage() > PagePatch.MAX_SLOTS ? 0
                : layout.rowsPerPage() / 4;
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
        long key = PageKey.of(layer, kvHead, pageId);
        StoredPage page = lookup(key);
        if (page == null) {
            return ABSENT;
        }
        int hd = layout.headDim();
        int half = layout.rowsPerPage() * hd;
        int valid = page.validRows() * hd;
        System.arraycopy(page.rows(), page.keyOffset(0), dst, dstOff + layout.keyOffset(0), valid);
        java.util.Arrays.fill(dst, dstOff + layout.keyOffset(0) + valid, dstOff + layout.keyOffset(0) + half, 0f);
        System.arraycopy(page.rows(), page.valueOffset(0), dst, dstOff + layout.valueOffset(0), valid);
        java.util.Arrays.fill(dst, dstOff + layout.valueOffset(0) + valid, dstOff + layout.valueOffset(0) + half, 0f);
        int k = known.get(key);
        if (k == LongIntMap.MISSING || (k & PATCHED) != PATCHED) {
            return page.validRows();
        }
        PagePatch patch = patchOf(key);
        StoredPage rows = patch.rows();
        for (int r = 0, i = 0; r < Math.min(patch.validRows(), PagePatch.MAX_SLOTS); r++) {
            if ((patch.slots() & (1 << r)) != 0) {
                System.arraycopy(rows.rows(), rows.keyOffset(i), dst, dstOff + layout.keyOffset(r), hd);
                System.arraycopy(rows.rows(), rows.valueOffset(i), dst, dstOff + layout.valueOffset(r), hd);
                i++;
            }
        }
        int from = patch.validRows() * hd; // rows past the patched count are not the page's any more
        java.util.Arrays.fill(dst, dstOff + layout.keyOffset(0) + from, dstOff + layout.keyOffset(0) + half, 0f);
        java.util.Arrays.fill(dst, dstOff + layout.valueOffset(0) + from, dstOff + layout.valueOffset(0) + half, 0f);
        return patch.validRows();
    }

    @Override
    public void write(int layer, int kvHead, int pageId, float[] src, int srcOff, int validRows) {
        checkOpen();
        layout.checkValidRows(validRows);
        Checks.checkRange(srcOff, layout.floatsPerPage(), src.length);
        long key = PageKey.of(layer, kvHead, pageId);
        int k = state(key);
        if (k == ABSENT_KEY) {
            pageCount++;
        } else if ((k & PATCHED) == PATCHED) {
            pendingPatches.put(key, NO_PATCH); // the whole page supersedes its patch
        }
        known.put(key, STORED);
        hold(pending.put(key, new StoredPage(validRows, layout.headDim(), rounded(src, srcOff, validRows, -1),
                format)), 2 * validRows);
    }

    /**
     * Keeps the changed rows as the page's patch while the rows changed since the page was stored
     * whole (this write's and the patch's) are at most a quarter of the page; otherwise, or for a
     * page not stored yet or already written whole in this element, writes the whole page.
     */
    @Override
    public void writeRows(int layer, int kvHead, int pageId, float[] src, int srcOff, int validRows,
                          long changedRows) {
        checkOpen();
        long key = PageKey.of(layer, kvHead, pageId);
        int k = maxPatchRows == 0 ? ABSENT_KEY : state(key);
        if (k == ABSENT_KEY || pending.containsKey(key) || validRows > PagePatch.MAX_SLOTS) {
            write(layer, kvHead, pageId, src, srcOff, validRows);
            return;
        }
        layout.checkValidRows(validRows);
        Checks.checkRange(srcOff, layout.floatsPerPage(), src.length);
        int before = (k & PATCHED) == PATCHED ? k >>> 2 : 0;
        int slots = (before | (int) changedRows) & PagePatch.slotsBelow(validRows);
        if (Integer.bitCount(slots) > maxPatchRows) {
            write(layer, kvHead, pageId, src, srcOff, validRows);
            return;
        }
        StoredPage rows = new StoredPage(Integer.bitCount(slots), layout.headDim(),
                rounded(src, srcOff, validRows, slots), format);
        PagePatch replaced = pendingPatches.put(key, new PagePatch(validRows, slots, rows));
        known.put(key, (slots << 2) | PATCHED);
        hold(replaced == null ? null : replaced.rows(), 2 * rows.validRows());
    }

    /** Counts a held page or patch of {@code rows} rows (replacing {@code replaced}); flushes past the bound. */
    private void hold(StoredPage replaced, int rows) {
        pendingBytes += 64 + 4L * rows * layout.headDim();
        if (replaced != null) {
            pendingBytes -= 64 + 4L * replaced.rows().length;
        }
        if (pendingBytes > MAX_PENDING_BYTES) {
            flush();
        }
    }

    @Override
    public boolean delete(int layer, int kvHead, int pageId) {
        checkOpen();
        long key = PageKey.of(layer, kvHead, pageId);
        int k = state(key);
        if (k == ABSENT_KEY) {
            return false;
        }
        if ((k & PATCHED) == PATCHED) {
            pendingPatches.put(key, NO_PATCH);
        }
        pending.put(key, DELETED);
        known.put(key, ABSENT_KEY);
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

    /**
     * What {@link #bytesWritten()} would be had every page write stored the whole page: each
     * patch put counts as its page's full size (a comparison for the patches' benefit).
     */
    public long wholePageBytesWritten() {
        return wholePageBytesWritten;
    }

    /** Heap bytes this store holds: the known-key table and the pages and patches pending until the next flush. */
    public long retainedBytes() {
        long bytes = 16L * known.size() * 2; // open addressing at load <= 1/2: a long and an int per cell
        for (StoredPage p : pending.values()) {
            bytes += 16 + 4L * p.rows().length;
        }
        for (PagePatch p : pendingPatches.values()) {
            bytes += 32 + 4L * p.rows().rows().length;
        }
        return bytes;
    }

    /** Bytes keyed state serializes for {@code page} under its 8-byte key ({@link PageSerializer}'s v2 format). */
    static long stateBytes(StoredPage page) {
        return Long.BYTES + 2 * Integer.BYTES + 1 + (long) page.format().bytesPerFloat() * page.rows().length;
    }

    /** Writes every pending change into the map states; call at the end of each element. */
    public void flush() {
        checkOpen();
        try {
            for (Map.Entry<Long, StoredPage> e : pending.entrySet()) {
                if (e.getValue() == DELETED) {
                    pages.remove(e.getKey());
                } else {
                    pages.put(e.getKey(), e.getValue());
                    bytesWritten += stateBytes(e.getValue());
                    wholePageBytesWritten += stateBytes(e.getValue());
                }
            }
            for (Map.Entry<Long, PagePatch> e : pendingPatches.entrySet()) {
                if (e.getValue() == NO_PATCH) {
                    patches.remove(e.getKey());
                } else {
                    PagePatch patch = e.getValue();
                    patches.put(e.getKey(), patch);
                    bytesWritten += 2 * Integer.BYTES + stateBytes(patch.rows());
                    wholePageBytesWritten += Long.BYTES + 2 * Integer.BYTES + 1
                            + (long) format.bytesPerFloat() * 2 * patch.validRows() * layout.headDim();
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("writing " + pending.size() + " KV pages and " + pendingPatches.size()
                    + " page patches to keyed state failed", e);
        }
        pending.clear();
        pendingPatches.clear();
        pendingBytes = 0;
    }

    /** Drops pending changes; the store is unusable afterwards. Flush first to keep them. */
    @Override
    public void close() {
        pending.clear();
        pendingPatches.clear();
        closed = true;
    }

    /**
     * What is stored under {@code key} (pending changes included): {@link #ABSENT_KEY},
     * {@link #STORED}, or a patch's slots; reads the map states at most once per key.
     */
    private int state(long key) {
        int k = known.get(key);
        if (k != LongIntMap.MISSING) {
            return k;
        }
        k = ABSENT_KEY;
        if (!openedEmpty) {
            try {
                if (pages.contains(key)) {
                    k = storedState(key);
                }
            } catch (Exception e) {
                throw new IllegalStateException("reading KV page layer=" + PageKey.layer(key) + " kvHead="
                        + PageKey.kvHead(key) + " pageId=" + PageKey.pageId(key) + " from keyed state failed", e);
            }
        }
        known.put(key, k);
        return k;
    }

    /** The whole page as last stored (pending first), without its patch; null when absent. */
    private StoredPage lookup(long key) {
        StoredPage p = pending.get(key);
        if (p != null) {
            return p == DELETED ? null : p;
        }
        int k = known.get(key);
        if (k == ABSENT_KEY || (k == LongIntMap.MISSING && openedEmpty)) {
            return null; // known absent: no read
        }
        try {
            p = pages.get(key);
            if (k == LongIntMap.MISSING) {
                known.put(key, p == null ? ABSENT_KEY : storedState(key));
            }
            return p;
        } catch (Exception e) {
            throw new IllegalStateException("reading KV page layer=" + PageKey.layer(key) + " kvHead="
                    + PageKey.kvHead(key) + " pageId=" + PageKey.pageId(key) + " from keyed state failed", e);
        }
    }

    /** What {@link #known} says of a key stored in the page state: whole, or its patch's slots. */
    private int storedState(long key) throws Exception {
        PagePatch patch = patches == null ? null : patches.get(key);
        return patch == null ? STORED : (patch.slots() << 2) | PATCHED;
    }

    /** The pending or stored patch of a key {@link #known} to have one. */
    private PagePatch patchOf(long key) {
        PagePatch p = pendingPatches.get(key);
        if (p != null) {
            return p;
        }
        try {
            p = patches.get(key);
        } catch (Exception e) {
            throw new IllegalStateException("reading the patch of KV page layer=" + PageKey.layer(key) + " kvHead="
                    + PageKey.kvHead(key) + " pageId=" + PageKey.pageId(key) + " from keyed state failed", e);
        }
        if (p == null) {
            throw new IllegalStateException("KV page layer=" + PageKey.layer(key) + " kvHead=" + PageKey.kvHead(key)
                    + " pageId=" + PageKey.pageId(key) + " lost its patch in keyed state; the state is corrupt");
        }
        return p;
    }

    /**
     * The K rows then the V rows of {@code src}'s block after the format's rounding: rows
     * {@code 0 .. validRows-1}, or only the rows of {@code slots} (in increasing order) when it is not -1.
     */
    private float[] rounded(float[] src, int srcOff, int validRows, int slots) {
        int hd = layout.headDim();
        int n = slots == -1 ? validRows : Integer.bitCount(slots);
        float[] rows = new float[2 * n * hd];
        for (int r = 0, i = 0; r < validRows; r++) {
            if (slots != -1 && (r >= PagePatch.MAX_SLOTS || (slots & (1 << r)) == 0)) {
                continue;
            }
            int k = srcOff + layout.keyOffset(r);
            int v = srcOff + layout.valueOffset(r);
            for (int d = 0; d < hd; d++) {
                rows[i * hd + d] = format.roundTrip(src[k + d]);
                rows[(n + i) * hd + d] = format.roundTrip(src[v + d]);
            }
            i++;
        }
        return rows;
    }

    private void checkOpen() {
        Checks.checkState(!closed, "MapStatePageStore is closed");
    }
}
