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
 * ({@link #limitPendingBytes}): past the bound a write goes straight to the map state while the
 * pages already held stay held. The decoder gives the memory budget's room for the element, never
 * less than {@link #MIN_PENDING_BYTES}. Pages are held in the store's format (BF16: 2 bytes a
 * value). Why the room and not a small fixed bound: on the 1B attention shape a chunk of about
 * 1,900 tokens of a 5.7k-token document rewrites most pages of every tree, each several times, and
 * held to the element's end they reach RocksDB once (127 MB a chunk); flushed early, a page is read
 * back from RocksDB and written again later in the chunk (a fixed 16 MiB bound that flushed
 * everything wrote 693 MB a chunk, and prefill through the job ran at half the engine's rate;
 * BENCHMARKS.md). Why keep the held pages and write the new ones through, not flush all: the chunk
 * touches the trees in the same order for every block of positions, so pages held stay useful,
 * while after a flush of all every page would be read back. Writing inside an element is safe: a
 * checkpoint barrier arrives only between elements, and a failure rolls keyed state back to the
 * last checkpoint, so it never sees a half-written element.
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

    /** The least bound on the heap bytes of pending pages and patches ({@link #limitPendingBytes}). */
    public static final long MIN_PENDING_BYTES = 16L << 20;

    private static final HeldPage DELETED = new HeldPage(0, null, new float[0]);
    private static final PagePatch NO_PATCH = new PagePatch(0, 0, new StoredPage(0, 1, new float[0]));
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
    private final Map<Long, HeldPage> pending = new HashMap<>();
    private final Map<Long, PagePatch> pendingPatches = new HashMap<>();
    /** Keys whose state (pending included) is known: {@link #ABSENT_KEY}, {@link #STORED} or a patch's slots. */
    private final LongIntMap known = new LongIntMap(64);
    /** Whether the map state held nothing when this store was opened (then every unseen key is absent). */
    private final boolean openedEmpty;
    private int pageCount;
    private long pendingBytes;
    private long pendingLimit = MIN_PENDING_BYTES;
    private long bytesWritten;
    private long wholePageBytesWritten;
    private long writtenThrough;
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

    /**
     * Bounds the heap bytes of the pages and patches held until {@link #flush()}: past it, a write of
     * a page or patch not held goes straight to the map state (at least {@link #MIN_PENDING_BYTES};
     * that is also the bound until this is called).
     * The decoder passes what its memory budget leaves free for the element, so held pages stay
     * within {@code icecache.memory.budget}.
     */
    public void limitPendingBytes(long bytes) {
        holdAtMost(Math.max(MIN_PENDING_BYTES, bytes));
    }

    /** The bound without the least one (tests: a few pages held, the rest written through). */
    void holdAtMost(long bytes) {
        pendingLimit = bytes;
    }

    /** The bound {@link #limitPendingBytes} set. */
    public long pendingLimit() {
        return pendingLimit;
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
        int hd = layout.headDim();
        int half = layout.rowsPerPage() * hd;
        int validRows;
        HeldPage held = pending.get(key);
        if (held != null) {
            if (held == DELETED) {
                return ABSENT;
            }
            validRows = held.validRows();
            held.copyTo(dst, dstOff + layout.keyOffset(0), dstOff + layout.valueOffset(0), hd);
        } else {
            StoredPage page = lookup(key);
            if (page == null) {
                return ABSENT;
            }
            validRows = page.validRows();
            System.arraycopy(page.rows(), page.keyOffset(0), dst, dstOff + layout.keyOffset(0), validRows * hd);
            System.arraycopy(page.rows(), page.valueOffset(0), dst, dstOff + layout.valueOffset(0), validRows * hd);
        }
        int valid = validRows * hd;
        java.util.Arrays.fill(dst, dstOff + layout.keyOffset(0) + valid, dstOff + layout.keyOffset(0) + half, 0f);
        java.util.Arrays.fill(dst, dstOff + layout.valueOffset(0) + valid, dstOff + layout.valueOffset(0) + half, 0f);
        int k = known.get(key);
        if (k == LongIntMap.MISSING || (k & PATCHED) != PATCHED) {
            return validRows;
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
        HeldPage page = HeldPage.of(src, srcOff, validRows, layout, format);
        HeldPage replaced = pending.get(key);
        if (replaced == null && pendingBytes + page.heapBytes() > pendingLimit) {
            putPage(key, page); // past the bound: straight to the map state, the held pages stay held
            writtenThrough++;
            return;
        }
        pending.put(key, page);
        pendingBytes += page.heapBytes() - (replaced == null ? 0 : replaced.heapBytes());
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
                patchRows(src, srcOff, validRows, slots), format);
        PagePatch patch = new PagePatch(validRows, slots, rows);
        known.put(key, (slots << 2) | PATCHED);
        PagePatch replaced = pendingPatches.get(key);
        if (replaced == null && pendingBytes + patchHeapBytes(rows) > pendingLimit) {
            putPatch(key, patch);
            writtenThrough++;
            return;
        }
        pendingPatches.put(key, patch);
        pendingBytes += patchHeapBytes(rows) - (replaced == null ? 0 : patchHeapBytes(replaced.rows()));
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
        HeldPage replaced = pending.put(key, DELETED);
        pendingBytes += DELETED.heapBytes() - (replaced == null ? 0 : replaced.heapBytes());
        known.put(key, ABSENT_KEY);
        pageCount--;
        return true;
    }

    @Override
    public int pageCount() {
        return pageCount;
    }

    /**
     * Page and patch writes that went straight to the map state because the held ones had reached
     * the bound, since this store was opened (each may be read back from RocksDB within the element).
     */
    public long writtenThrough() {
        return writtenThrough;
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
        for (HeldPage p : pending.values()) {
            bytes += p.heapBytes();
        }
        for (PagePatch p : pendingPatches.values()) {
            bytes += patchHeapBytes(p.rows());
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
        for (Map.Entry<Long, HeldPage> e : pending.entrySet()) {
            putPage(e.getKey(), e.getValue());
        }
        for (Map.Entry<Long, PagePatch> e : pendingPatches.entrySet()) {
            putPatch(e.getKey(), e.getValue());
        }
        pending.clear();
        pendingPatches.clear();
        pendingBytes = 0;
    }

    /** Puts a held page into the map state (or removes the key, for {@link #DELETED}). */
    private void putPage(long key, HeldPage held) {
        try {
            if (held == DELETED) {
                pages.remove(key);
                return;
            }
            StoredPage page = held.toStoredPage(layout.headDim(), format);
            pages.put(key, page);
            bytesWritten += stateBytes(page);
            wholePageBytesWritten += stateBytes(page);
        } catch (Exception e) {
            throw new IllegalStateException("writing KV page layer=" + PageKey.layer(key) + " kvHead="
                    + PageKey.kvHead(key) + " pageId=" + PageKey.pageId(key) + " to keyed state failed", e);
        }
    }

    /** Puts a patch into the map state (or removes the key's patch, for {@link #NO_PATCH}). */
    private void putPatch(long key, PagePatch patch) {
        try {
            if (patch == NO_PATCH) {
                patches.remove(key);
                return;
            }
            patches.put(key, patch);
            bytesWritten += 2 * Integer.BYTES + stateBytes(patch.rows());
            wholePageBytesWritten += Long.BYTES + 2 * Integer.BYTES + 1
                    + (long) format.bytesPerFloat() * 2 * patch.validRows() * layout.headDim();
        } catch (Exception e) {
            throw new IllegalStateException("writing the patch of KV page layer=" + PageKey.layer(key) + " kvHead="
                    + PageKey.kvHead(key) + " pageId=" + PageKey.pageId(key) + " to keyed state failed", e);
        }
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

    /** The whole page as the map state holds it (held pages not looked at), without its patch; null when absent. */
    private StoredPage lookup(long key) {
        int k = known.get(key);
        if (k == ABSENT_KEY || (k == LongIntMap.MISSING && openedEmpty)) {
            return null; // known absent: no read
        }
        try {
            StoredPage p = pages.get(key);
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

    /** Heap bytes of a held patch's rows (as {@link #retainedBytes()} counts them). */
    private static long patchHeapBytes(StoredPage rows) {
        return 48 + 4L * rows.rows().length;
    }

    /**
     * A whole page held until the flush, in the store's format: the K rows then the V rows of its
     * valid rows, as BF16 bits (2 bytes a value: a prefill chunk holds most pages of every tree,
     * so this halves what it holds) or as floats for F32; {@link StoredPage} only when flushed.
     */
    private record HeldPage(int validRows, short[] bf16, float[] f32) {

        static HeldPage of(float[] src, int srcOff, int validRows, PageLayout layout, PageFormat format) {
            int hd = layout.headDim();
            int n = validRows * hd;
            int k = srcOff + layout.keyOffset(0);
            int v = srcOff + layout.valueOffset(0);
            if (format == PageFormat.F32) {
                float[] rows = new float[2 * n];
                System.arraycopy(src, k, rows, 0, n);
                System.arraycopy(src, v, rows, n, n);
                return new HeldPage(validRows, null, rows);
            }
            short[] bits = new short[2 * n];
            for (int i = 0; i < n; i++) {
                bits[i] = PageFormat.narrow(src[k + i]);
                bits[n + i] = PageFormat.narrow(src[v + i]);
            }
            return new HeldPage(validRows, bits, null);
        }

        long heapBytes() {
            return 64 + (bf16 != null ? 2L * bf16.length : 4L * f32.length);
        }

        /** Copies the K rows to {@code dst[keyAt ..]} and the V rows to {@code dst[valueAt ..]}, widened. */
        void copyTo(float[] dst, int keyAt, int valueAt, int headDim) {
            int n = validRows * headDim;
            if (f32 != null) {
                System.arraycopy(f32, 0, dst, keyAt, n);
                System.arraycopy(f32, n, dst, valueAt, n);
                return;
            }
            for (int i = 0; i < n; i++) {
                dst[keyAt + i] = PageFormat.widen(bf16[i]);
                dst[valueAt + i] = PageFormat.widen(bf16[n + i]);
            }
        }

        StoredPage toStoredPage(int headDim, PageFormat format) {
            if (f32 != null) {
                return new StoredPage(validRows, headDim, f32, format);
            }
            float[] rows = new float[bf16.length];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = PageFormat.widen(bf16[i]);
            }
            return new StoredPage(validRows, headDim, rows, format);
        }
    }

    /**
     * A patch's rows: the K rows then the V rows of {@code src}'s block for the rows of
     * {@code slots} (in increasing order, all below {@code validRows}), after the format's rounding.
     */
    private float[] patchRows(float[] src, int srcOff, int validRows, int slots) {
        int hd = layout.headDim();
        int n = Integer.bitCount(slots);
        float[] rows = new float[2 * n * hd];
        for (int r = 0, i = 0; r < Math.min(validRows, PagePatch.MAX_SLOTS); r++) {
            if ((slots & (1 << r)) == 0) {
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
