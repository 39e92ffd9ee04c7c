package dev.icecache.gpu.resident;

import java.util.Arrays;
import java.util.function.Function;

import dev.icecache.gpu.launch.AttentionLaunch;
import dev.icecache.gpu.launch.PageTable;
import dev.icecache.gpu.launch.ResidentSlots;
import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.device.ResidentMirror;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.transfer.TransferPlan;

/**
 * Attention of one document with its pages on the device (issue 14): the host {@link PagedKvCache}
 * keeps the index, the store and its pool bookkeeping, and mirrors every slot change here; the
 * device holds the same pool slots plus the current chunk and the dense layers in its own pages
 * ({@link ResidentSlots}) and attends over a per-step page table.
 *
 * <pre>
 *   per layer:  host: append the batch's rows (commit of the last chunk -> rowPlaced -> one copy_rows launch)
 *               device: write_rows of the batch into chunk pages (sparse) or dense pages
 *               host: sparse: listBlockPages (selection + TransferPlan -> scatter) + the chunk pages
 *                     dense:  every dense page up to the batch's last position
 *               device: causal paged attention of the batch over the table (q and output stay on the device)
 * </pre>
 *
 * Outputs equal {@link PagedKvCache#attendBlock}'s up to summation order (rows are reduced in table
 * order, not position order). Attach to an empty cache, or to a restored one between elements (its
 * pool blocks and dense pages go up first, {@value #LOAD_BATCH} per copy); one thread at a time.
 */
public final class ResidentAttention implements ResidentMirror, AutoCloseable {

    private final PagedKvCache cache;
    private final CacheShape shape;
    private final ResidentSlots slots;
    private final KvDevice device;
    private final PageTable table;         // a sparse layer's step
    private final PageTable[] denseTables; // [dense layer] every page, full rows; counts set per step
    private final int rows;
    private final int[] headSlots;
    private int[] pairs = new int[64];
    private int pairCount;
    private int[] loadSlots = new int[LOAD_BATCH];            // pages handed over at attach, or a plan's fetches
    private float[] loadBlocks;                                // [LOAD_BATCH][floatsPerPage], only while attaching
    private int loadCount;

    /** Pages per staged copy while a restored cache's pages go up. */
    static final int LOAD_BATCH = 256;
    private boolean closed;
    private Runnable onClose = () -> { };

    /**
     * Mirrors {@code cache} on a device region of {@code slots}' size opened by {@code open}; a cache
     * that holds positions (a restored one) hands its pool and dense pages up first.
     *
     * @throws IllegalArgumentException when the slots do not fit the cache's pool
     * @throws IllegalStateException when the cache holds uncommitted chunk rows (attach between elements)
     */
    public ResidentAttention(PagedKvCache cache, ResidentSlots slots, Function<ResidentSlots, KvDevice> open) {
        if (slots.poolSlots() != cache.poolCapacityPages()
                || slots.firstSparse() != cache.config().denseLayers()
                || slots.nKvHeads() != cache.shape().nKvHeads()) {
            throw new IllegalArgumentException("resident slots " + slots + " do not match the cache's pool of "
                    + cache.poolCapacityPages() + " pages and " + cache.config().denseLayers() + " dense layers");
        }
        this.cache = cache;
        this.shape = cache.shape();
        this.slots = slots;
        this.rows = slots.rowsPerPage();
        PageLayout layout = PageLayout.of(shape.headDim());
        this.table = new PageTable(new AttentionLaunch(shape.nHeads(), shape.nKvHeads(), layout,
                sparseMaxPages(cache, slots)));
        this.denseTables = new PageTable[slots.firstSparse()];
        for (int l = 0; l < denseTables.length; l++) {
            denseTables[l] = new PageTable(new AttentionLaunch(shape.nHeads(), shape.nKvHeads(), layout,
                    slots.densePages()));
            for (int h = 0; h < shape.nKvHeads(); h++) {
                for (int page = 0; page < slots.densePages(); page++) {
                    denseTables[l].add(h, slots.denseSlot(l, h, page), rows, page * rows);
                }
            }
        }
        this.headSlots = new int[shape.nKvHeads()];
        this.device = open.apply(slots);
        try {
            cache.attachMirror(this);
            flushLoads();
            loadBlocks = null;
        } catch (RuntimeException e) {
            cache.attachMirror(null);
            device.close();
            throw e;
        }
    }

    /** Pages one KV head's table of a sparse step may list: sink + window + retrieved + chunk. */
    static int sparseMaxPages(PagedKvCache cache, ResidentSlots slots) {
        CacheShape s = cache.shape();
        int sparseStreams = (s.nLayers() - slots.firstSparse()) * s.nKvHeads();
        int perStream = sparseStreams == 0 ? 0 : slots.poolSlots() / sparseStreams;
        return perStream + slots.chunkPages();
    }

    /** The region geometry. */
    public ResidentSlots slots() {
        return slots;
    }

    /** The device operations (counters). */
    public KvDevice device() {
        return device;
    }

    /** The page table of the last sparse step (read-only use: tests). */
    public PageTable lastTable() {
        return table;
    }

    /**
     * One layer's attention step for batch positions {@code position .. position+n-1}: the host copy
     * of their rows ({@code k}, {@code v}: [t][kvDim]) and queries ({@code q}: [t][qDim], used for the
     * page selection only), the device copies already written by the forward pass.
     */
    public void attendLayer(int layer, int position, int n, float[] q, float[] k, float[] v) {
        attendLayer(layer, position, n, q, 0, k, 0, v, 0);
    }

    /** {@link #attendLayer(int, int, int, float[], float[], float[])} with the rows at offsets. */
    public void attendLayer(int layer, int position, int n, float[] q, int qOff, float[] k, int kOff, float[] v,
                            int vOff) {
        step(layer, position, n, q, qOff, k, kOff, v, vOff, true);
    }

    /**
     * A step without the device's attention: rows written, pages selected and moved as for
     * {@link #attendLayer}, no output (figures fill long contexts with it, where a dense layer's
     * quadratic prefill attention would cost more than the decode steps they time).
     */
    void fillLayer(int layer, int position, int n, float[] q, float[] k, float[] v) {
        step(layer, position, n, q, 0, k, 0, v, 0, false);
    }

    private void step(int layer, int position, int n, float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
                      boolean attend) {
        if (closed) {
            throw new IllegalStateException("device-resident attention used after close");
        }
        int kvDim = shape.kvDim();
        for (int t = 0; t < n; t++) {
            cache.append(layer, position + t, k, kOff + t * kvDim, v, vOff + t * kvDim);
        }
        flushCopies();
        int end = position + n;
        if (layer < slots.firstSparse()) {
            for (int t = 0; t < n; t++) {
                int p = position + t;
                for (int h = 0; h < headSlots.length; h++) {
                    headSlots[h] = slots.denseSlot(layer, h, p / rows);
                }
                device.writeRows(t, headSlots, p % rows);
            }
            PageTable dense = denseTables[layer];
            for (int h = 0; h < headSlots.length; h++) {
                dense.setCount(h, (end + rows - 1) / rows);
            }
            if (attend) {
                device.attendStatic(layer, dense, position, n);
            }
            return;
        } else {
            table.clear();
            int chunk = cache.chunkRows(layer);
            if (chunk > slots.chunkPages() * rows) {
                throw new IllegalStateException("chunk of " + chunk + " rows at layer=" + layer + " exceeds the device's "
                        + slots.chunkPages() * rows + " chunk rows; feed batches of at most that many positions");
            }
            int chunkStart = end - chunk;
            for (int t = 0; t < n; t++) {
                int c = position + t - chunkStart;
                for (int h = 0; h < headSlots.length; h++) {
                    headSlots[h] = slots.chunkSlot(layer, h, c / rows);
                }
                device.writeRows(t, headSlots, c % rows);
            }
            cache.listBlockPages(layer, position, n, q, qOff, table);
            for (int h = 0; h < headSlots.length; h++) {
                for (int c = 0; c < chunk; c += rows) {
                    table.add(h, slots.chunkSlot(layer, h, c / rows), Math.min(rows, chunk - c), chunkStart + c);
                }
            }
            if (attend) {
                device.attend(table, position, n);
            }
        }
    }

    @Override
    public void rowPlaced(int layer, int kvHead, int position, int chunkIndex, int slot, int row) {
        if (pairs.length < 2 * pairCount + 2) {
            pairs = Arrays.copyOf(pairs, 2 * pairs.length);
        }
        pairs[2 * pairCount] = slots.chunkSlot(layer, kvHead, chunkIndex / rows) * rows + chunkIndex % rows;
        pairs[2 * pairCount + 1] = slot * rows + row;
        pairCount++;
    }

    /** Runs {@code r} once when this closes (the owner forgets it). */
    public void onClose(Runnable r) {
        this.onClose = r;
    }

    /** Bytes of the device region this document holds (its pages in the pool's format). */
    public long deviceBytes() {
        return slots.bytes(cache.config().pageFormat());
    }

    @Override
    public void cacheClosed() {
        close();
    }

    @Override
    public void pagesFetched(TransferPlan plan) {
        int n = plan.fetchCount();
        if (loadSlots.length < n) {
            loadSlots = new int[Math.max(n, 2 * loadSlots.length)];
        }
        for (int i = 0; i < n; i++) {
            loadSlots[i] = plan.fetchSlot(i);
        }
        device.loadPages(loadSlots, plan.staging(), n);
    }

    @Override
    public void poolPageLoaded(int slot, float[] block, int off) {
        queueLoad(slot, block, off);
    }

    @Override
    public void densePageLoaded(int layer, int kvHead, int page, float[] block, int off) {
        queueLoad(slots.denseSlot(layer, kvHead, page), block, off);
    }

    private void queueLoad(int slot, float[] block, int off) {
        int fpp = slots.layout().floatsPerPage();
        if (loadBlocks == null) {
            loadBlocks = new float[LOAD_BATCH * fpp];
        }
        loadSlots[loadCount] = slot;
        System.arraycopy(block, off, loadBlocks, loadCount * fpp, fpp);
        if (++loadCount == LOAD_BATCH) {
            flushLoads();
        }
    }

    private void flushLoads() {
        if (loadCount > 0) {
            device.loadPages(loadSlots, loadBlocks, loadCount);
            loadCount = 0;
        }
    }

    private void flushCopies() {
        if (pairCount > 0) {
            device.copyRows(pairs, pairCount);
            pairCount = 0;
        }
    }

    /** Detaches from the cache and frees the device region. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            cache.attachMirror(null);
            try {
                device.close();
            } finally {
                onClose.run();
            }
        }
    }
}
