package dev.icecache.kvcache.policy;

import dev.icecache.kvcache.BlockAttendTask;
import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.RangeRunner;
import dev.icecache.kvcache.attention.BlockAttention;
import dev.icecache.kvcache.attention.SparseAttention;
import dev.icecache.kvcache.device.PageListing;
import dev.icecache.kvcache.device.ResidentMirror;
import dev.icecache.kvcache.metrics.AttendedPositions;
import dev.icecache.kvcache.metrics.CacheMetrics;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageKey;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PagePool;
import dev.icecache.kvcache.page.PageStore;
import dev.icecache.kvcache.select.PageSelector;
import dev.icecache.kvcache.select.SelectorSpec;
import dev.icecache.kvcache.transfer.ResidentSet;
import dev.icecache.kvcache.transfer.TransferPlan;
import dev.icecache.kvcache.tree.Projection;
import java.util.Arrays;

/**
 * The KV cache of one sequence under a selection policy, with a bounded resident pool and every
 * page in a {@link PageStore} (icecache.md "Data layout"; issue 3).
 *
 * <pre>
 *   positions of a sparse layer:
 *   | sink (pinned) | indexed: pages of the policy's index, in the store   | window (pinned) | chunk |
 *   0          sinkTokens                                              windowStart       committed  length
 *
 *   attend(p):  sink + pages selected for p (fetched into the pool by a TransferPlan) + window
 *               + chunk rows committed..p, sorted by position, HeadAttention numerics
 *   attendBlock(p0, n): one selection per KV head for the block, from the mean of the block's
 *               queries per query head (merged rank by rank as for one query); rows gathered once
 *               (sink + selected + window + chunk rows committed..p0+n-1, sorted by position);
 *               query p reduces the sorted prefix of rows at positions &lt;= p
 *   append after attend: the chunk is committed: rows enter sink and window; each window page
 *               pushed out (16 tokens) is added to the index, whose move log is applied to the store
 *   dense layers (the first denseLayers): every position, on the heap, flushed to the store
 * </pre>
 *
 * Resident memory is the pool (sink + window + retrieved pages of every sparse (layer, KV head))
 * plus the rows of one chunk; it does not grow with the sequence. Outputs do not depend on the
 * pool's history: restoring a snapshot gives the same subsequent outputs. Where sink and window
 * rows live (pool slots, store ids) is {@link EdgeRing}'s; the snapshot format is {@link CacheSnapshots}'.
 */
public final class PagedKvCache implements KvCache {

    /**
     * Positions of scratch a cache keeps between chunks: buffers a prefill chunk grew beyond this
     * (chunk rows, evicted pages, move scratch) are released after the chunk is committed, so a
     * live document does not keep one chunk's worth of buffers (64 MiB at 1,024 positions on the
     * Llama-3.2-1B shape); a decode step (one position, at most one evicted page) stays under it
     * and allocates nothing.
     */
    static final int SCRATCH_ROWS = 64;
    private static final float[] NO_ROWS = new float[0];

    final CacheShape shape;
    final CacheConfig config;
    final PageStore store;
    final PageLayout layout;
    final PageSelector selector;
    final PagePool pool;
    final int firstSparse;
    final int retrieved;               // pages selected per sparse (layer, KV head) and step
    final int[] length;                // [layer] positions appended
    final int[] committed;             // [layer] positions placed in sink / window / index
    final int[] edgeStored;            // [layer] positions whose sink / window rows the store holds
    private final boolean[] attending; // [layer] an attend came after the last append
    private float[][] chunkK;        // [layer][(position - committed) * kvDim]
    private float[][] chunkV;
    final EdgeRing ring;               // sink and window pages of every sparse stream
    private final ResidentSet[] resident;  // [sparse stream]
    private final TransferPlan plan;
    private final PageMoves moves;
    final DenseLayers dense;
    private final SparseAttention[] headRows;   // [kvHead] rows gathered for one KV head's attention
    private BlockAttention.Scratch[] parts = new BlockAttention.Scratch[0]; // [part] one thread's scratch
    private final AttendTask attendTask = new AttendTask();
    private final GrowTask growTask = new GrowTask();
    /**
     * Where a commit grows the KV heads' indexes: the runner of the last attend call (the engine's
     * compute pool). A commit runs inside {@link #append}, which has no runner of its own, on the
     * thread that attends, so the pool is idle then.
     */
    private RangeRunner growWorkers = RangeRunner.SERIAL;
    final CacheMetrics metrics = new CacheMetrics();
    private final int[][] selected;    // [kvHead][retrieved]
    private final int[] selectedCount; // [kvHead]
    private final int[][] pageRows;    // [kvHead][rowsPerPage] tokens of one page
    private final float[] blockQuery;  // [qDim] mean query of a prefill block
    private final float[] rowK;        // [kvDim] rounded rows of one append
    private final float[] rowV;
    private final EvictionBatch evictions;
    private AttendedPositions observer;      // null: nobody listens
    private int[] observed = new int[0];     // positions handed to the observer
    private ResidentMirror mirror;           // null: the pool lives on the heap only

    /**
     * An empty cache.
     *
     * @param store the slow tier; its layout must be 16 rows of {@code shape.headDim()} and its format
     *              the config's; owned by the caller (this cache never closes it)
     * @param projection the shared projection direction (IceCache policies; may be null otherwise)
     */
    public PagedKvCache(CacheShape shape, CacheConfig config, PageStore store, Projection projection) {
        Checks.checkArgument(shape != null && config != null && store != null, "shape, config, store must not be null");
        this.layout = PageLayout.of(shape.headDim());
        Checks.checkArgument(store.layout().equals(layout), "store layout=%s does not match the cache's %s",
                store.layout(), layout);
        Checks.checkArgument(store.format() == config.pageFormat(),
                "store format=%s differs from config pageFormat=%s; use one format for both", store.format(),
                config.pageFormat());
        Checks.checkArgument(config.denseLayers() <= shape.nLayers(), "denseLayers=%d exceeds nLayers=%d",
                config.denseLayers(), shape.nLayers());
        this.shape = shape;
        this.config = config;
        this.store = store;
        this.firstSparse = config.denseLayers();
        this.retrieved = config.policy().attendsEverything()
                ? Math.max(1, (shape.maxTokens() + layout.rowsPerPage() - 1) / layout.rowsPerPage())
                : config.retrievedPages();
        this.selector = config.policy().newSelector(new SelectorSpec(shape, firstSparse, config.sinkTokens(),
                layout.rowsPerPage(), config.treeParams(), projection, config.policy().reuseLayers()));
        int layers = shape.nLayers();
        int kv = shape.nKvHeads();
        int sparseStreams = (layers - firstSparse) * kv;
        this.ring = new EdgeRing(layout.rowsPerPage(), config, layers, sparseStreams);
        this.pool = new PagePool(layout, Math.max(1, sparseStreams * (ring.pinnedPages() + retrieved)));
        this.length = new int[layers];
        this.committed = new int[layers];
        this.edgeStored = new int[layers];
        this.attending = new boolean[layers];
        this.chunkK = new float[layers][0];
        this.chunkV = new float[layers][0];
        this.resident = new ResidentSet[sparseStreams];
        Checks.checkState(pool.tryReserve(sparseStreams * ring.pinnedPages()),
                "pool too small for sink and window");
        for (int l = firstSparse; l < layers; l++) {
            for (int h = 0; h < kv; h++) {
                int s = sparse(l, h);
                ring.pin(pool, s, l, h);
                resident[s] = new ResidentSet(l, h, retrieved);
            }
        }
        this.plan = new TransferPlan(pool, Math.min(pool.capacity(), kv * retrieved));
        this.moves = new PageMoves(layout);
        this.dense = new DenseLayers(shape, layout, firstSparse, config.pageFormat());
        this.headRows = new SparseAttention[kv];
        for (int h = 0; h < kv; h++) {
            headRows[h] = new SparseAttention(shape.headDim());
        }
        this.selected = new int[kv][retrieved];
        this.selectedCount = new int[kv];
        this.pageRows = new int[kv][layout.rowsPerPage()];
        this.evictions = new EvictionBatch(layout, kv);
        this.rowK = new float[shape.kvDim()];
        this.blockQuery = new float[shape.qDim()];
        this.rowV = new float[shape.kvDim()];
    }

    int sparse(int layer, int kvHead) {
        return (layer - firstSparse) * shape.nKvHeads() + kvHead;
    }

    @Override
    public CacheShape shape() {
        return shape;
    }

    @Override
    public int length() {
        return length[shape.nLayers() - 1];
    }

    /** The configuration this cache was built with. */
    public CacheConfig config() {
        return config;
    }

    /** Counters of this cache (live object). */
    public CacheMetrics metrics() {
        return metrics;
    }

    /** The policy's selector (read-only use: benchmarks, tests). */
    public PageSelector selector() {
        return selector;
    }

    /** Pool slots taken now (sink, window and retrieved pages). */
    public int residentPages() {
        return pool.takenSlots();
    }

    /** The most pool slots taken at once. */
    public int peakResidentPages() {
        return pool.peakTakenSlots();
    }

    /** Pool capacity in pages: the resident bound. */
    public int poolCapacityPages() {
        return pool.capacity();
    }

    /** Bytes of the dense layers' rows on the heap (array capacity; 2 bytes a value under BF16). */
    public long denseRowBytes() {
        return dense.heapBytes();
    }

    /** Bytes of the pool array (allocated once). */
    public long poolBytes() {
        return pool.capacityBytes();
    }

    /**
     * Heap bytes this cache holds, for memory budgets: the pool, the dense layers' rows, the
     * current chunk's rows and the selector's index (array capacities included; the store is
     * the caller's and not counted).
     */
    public long retainedBytes() {
        long bytes = pool.capacityBytes() + dense.retainedBytes() + selector.retainedBytes();
        for (int l = 0; l < chunkK.length; l++) {
            bytes += 4L * (chunkK[l].length + chunkV[l].length);
        }
        return bytes;
    }

    /** Rows the last attend reduced over, for its last KV head (sink + selected + window + chunk). */
    public int lastAttendedRows() {
        return headRows[shape.nKvHeads() - 1].rows();
    }

    /**
     * Registers (or with null removes) a listener for the positions each sparse attend reduces
     * over; costs nothing when none is set.
     */
    public void observeAttendedPositions(AttendedPositions listener) {
        this.observer = listener;
    }

    /**
     * Registers (or with null removes) the device copy of the resident pool (issue 14): told of
     * every row committed into a sink or window slot and of every fetched page. A cache that holds
     * positions (a restored one) first hands it every pool block and every dense page; attach at an
     * element boundary then (no uncommitted chunk rows).
     *
     * @throws IllegalStateException when a sparse layer holds uncommitted chunk rows
     */
    public void attachMirror(ResidentMirror m) {
        if (m != null && length() > 0) {
            for (int l = firstSparse; l < shape.nLayers(); l++) {
                if (committed[l] != length[l]) {
                    throw new IllegalStateException(String.format("attach a mirror at an element boundary: layer=%d "
                        + "holds %d uncommitted chunk rows", l, length[l] - committed[l]));
                }
            }
            for (int slot = 0; slot < pool.capacity(); slot++) {
                m.poolPageLoaded(slot, pool.data(), pool.offset(slot));
            }
            dense.replay(length, m);
        }
        this.mirror = m;
    }

    /** Rows appended to a layer but not yet committed (the current chunk). */
    public int chunkRows(int layer) {
        return length[Checks.checkIndex(layer, shape.nLayers())] - committed[layer];
    }

    @Override
    public void append(int layer, int position, float[] k, int kOff, float[] v, int vOff) {
        Checks.checkAppend(shape, layer, position, length[layer]);
        int kvDim = shape.kvDim();
        Checks.checkRange(kOff, kvDim, k.length);
        Checks.checkRange(vOff, kvDim, v.length);
        PageFormat f = config.pageFormat();
        for (int i = 0; i < kvDim; i++) {
            rowK[i] = f.roundTrip(k[kOff + i]);
            rowV[i] = f.roundTrip(v[vOff + i]);
        }
        if (layer < firstSparse) {
            dense.append(layer, position, rowK, 0, rowV, 0);
        } else {
            if (attending[layer]) {
                commit(layer);
                attending[layer] = false;
            }
            int at = (position - committed[layer]) * kvDim;
            if (chunkK[layer].length < at + kvDim) {
                int cap = Math.max(at + kvDim, 2 * chunkK[layer].length);
                chunkK[layer] = Arrays.copyOf(chunkK[layer], cap);
                chunkV[layer] = Arrays.copyOf(chunkV[layer], cap);
            }
            System.arraycopy(rowK, 0, chunkK[layer], at, kvDim);
            System.arraycopy(rowV, 0, chunkV[layer], at, kvDim);
        }
        length[layer] = position + 1;
    }

    /** Places the chunk rows of a sparse layer into sink and window, evicting full window pages into the index. */
    void commit(int layer) {
        int kv = shape.nKvHeads();
        int hd = shape.headDim();
        int from = committed[layer];
        float[] data = pool.data();
        evictions.clear();
        for (int p = from; p < length[layer]; p++) {
            int src = (p - from) * shape.kvDim();
            while (ring.full(layer, p)) {
                evictOldestWindowPage(layer);
            }
            int row = ring.row(p);
            for (int h = 0; h < kv; h++) {
                int slot = ring.slot(sparse(layer, h), p);
                int at = pool.offset(slot);
                System.arraycopy(chunkK[layer], src + h * hd, data, at + layout.keyOffset(row), hd);
                System.arraycopy(chunkV[layer], src + h * hd, data, at + layout.valueOffset(row), hd);
                if (mirror != null) {
                    mirror.rowPlaced(layer, h, p, p - from, slot, row);
                }
            }
        }
        committed[layer] = length[layer];
        int n = evictions.size();
        if (n > 0) {
            int first = evictions.tokens()[0];
            growTask.layer = layer;
            growTask.n = n;
            // each KV head's index grows on its own (a parallel selector touches only that stream);
            // page writes follow in head order on this thread
            (selector.addsInParallel() ? growWorkers : RangeRunner.SERIAL).runRange(kv, growTask);
            for (int h = 0; h < kv; h++) {
                metrics.pagesWritten += moves.apply(selector, layer, h, store, pool, evictions.keys(h),
                        evictions.values(h), first);
            }
        }
        if (chunkK[layer].length > SCRATCH_ROWS * shape.kvDim()) {
            chunkK[layer] = NO_ROWS;
            chunkV[layer] = NO_ROWS;
        }
        evictions.release(SCRATCH_ROWS);
        moves.release(SCRATCH_ROWS);
    }

    private void evictOldestWindowPage(int layer) {
        evictions.beginPage(ring.oldestStart(layer));
        for (int h = 0; h < shape.nKvHeads(); h++) {
            evictions.copyHead(h, pool.data(), pool.offset(ring.oldestSlot(sparse(layer, h), layer)));
        }
        evictions.endPage();
        ring.advance(layer);
    }

    @Override
    public void attend(int layer, int position, float[] q, int qOff, float[] out, int outOff) {
        attendBlock(layer, position, 1, q, qOff, out, outOff, RangeRunner.SERIAL);
    }

    @Override
    public void attendBlock(int layer, int position, int n, float[] q, int qOff, float[] out, int outOff) {
        attendBlock(layer, position, n, q, qOff, out, outOff, RangeRunner.SERIAL);
    }

    /**
     * Attention of a prefill block with one page selection per (layer, KV head) for the whole
     * block (see the class comment), so the index costs one search per query head per block
     * instead of one per position. The selection's query for query head g is the mean of the
     * block's queries of head g (q.k averaged over the block ranks keys as the mean query does);
     * a block of one position selects with its own query. Attending to every position (Full, or
     * an index within the budget) gives the bits of {@link #attend} per position.
     *
     * <p>Selection and page moves run on the calling thread; the gathering and attention of the
     * KV heads are spread over {@code workers}, each head computed whole by one thread, so any
     * parallelism gives the same bits.
     */
    @Override
    public void attendBlock(int layer, int position, int n, float[] q, int qOff, float[] out, int outOff,
                            RangeRunner workers) {
        Checks.checkAttendBlock(shape, layer, position, n, length[layer], q, qOff, out, outOff);
        growWorkers = workers;
        int last = position + n - 1;
        parts = BlockAttention.Scratch.forThreads(parts, workers.parallelism());
        if (layer < firstSparse) {
            // dense layers keep their rows in the page format (BF16: 2 bytes); each position attends
            // to every row up to itself with the same kernel as a single step
            attendTask.denseLayer = true;
            attendTask.runOn(workers, shape.nKvHeads(), layer, position, n, q, qOff, out, outOff);
            return;
        }
        beginSparseStep(layer, position);
        long t0 = System.nanoTime();
        long dots0 = selector.exactDots();
        if (n == 1) {
            selectPages(layer, position, q, qOff, workers);
        } else {
            blockMeanQueries(n, q, qOff);
            selectPages(layer, last, blockQuery, 0, workers);
        }
        long t1 = System.nanoTime();
        movePages(layer);
        long t2 = System.nanoTime();
        attendTask.denseLayer = false;
        attendTask.runOn(workers, shape.nKvHeads(), layer, position, n, q, qOff, out, outOff);
        if (observer != null) {
            for (int h = 0; h < shape.nKvHeads(); h++) {
                for (int t = 0; t < n; t++) {
                    notifyObserver(layer, h, position + t, headRows[h].rowsUpTo(position + t));
                }
            }
        }
        endSparseStep(dots0, t0, t1, t2, System.nanoTime());
    }

    /**
     * The host half of a device attention step over the block {@code position .. position+n-1} of a
     * sparse layer (n = 1: a decode step): the page selection of {@link #attendBlock} (the query
     * itself for one position, the block's mean query otherwise) and its page moves (told to the
     * {@link #attachMirror mirror}), then the step's pool pages per KV head into {@code pages}: sink,
     * selected, window. The current chunk's rows (positions from {@code length - chunkRows}) are not
     * in the pool: the caller attends them from its own copy. Reducing the listed rows plus the
     * chunk rows up to each query gives {@link #attendBlock}'s result up to summation order. The
     * {@link #observeAttendedPositions attended-positions listener} is not told (nothing attends here).
     *
     * @throws IllegalArgumentException for a dense layer (the caller keeps those rows)
     */
    public void listBlockPages(int layer, int position, int n, float[] q, int qOff, PageListing pages) {
        Checks.checkIndex(layer, shape.nLayers());
        Checks.checkArgument(layer >= firstSparse, "layer=%d is dense (first sparse layer %d): its rows are the "
                + "caller's", layer, firstSparse);
        int last = position + n - 1;
        if (n < 1 || position < 0 || last >= length[layer]) {
            throw new IllegalStateException(String.format("attend block before append: layer=%d positions=%d..%d "
                + "appended=%d", layer, position, last, length[layer]));
        }
        Checks.checkRange(qOff, (long) n * shape.qDim(), q.length);
        beginSparseStep(layer, position);
        long t0 = System.nanoTime();
        long dots0 = selector.exactDots();
        if (n == 1) {
            selectPages(layer, position, q, qOff);
        } else {
            blockMeanQueries(n, q, qOff);
            selectPages(layer, last, blockQuery, 0);
        }
        long t1 = System.nanoTime();
        movePages(layer);
        long t2 = System.nanoTime();
        int rows = layout.rowsPerPage();
        int done = committed[layer];
        for (int h = 0; h < shape.nKvHeads(); h++) {
            int s = sparse(layer, h);
            int sinkEnd = Math.min(ring.sinkTokens(), done);
            for (int first = 0; first < sinkEnd; first += rows) {
                pages.add(h, ring.slot(s, first), Math.min(rows, sinkEnd - first), first);
            }
            for (int i = 0; i < selectedCount[h]; i++) {
                int page = selected[h][i];
                int valid = selector.pageTokens(layer, h, page, pageRows[h]);
                if (valid > 0) {
                    pages.add(h, pool.slotOf(PageKey.of(layer, h, page)), valid, -1);
                }
            }
            for (int first = ring.windowStart(layer); first < done; first += rows) {
                pages.add(h, ring.slot(s, first), Math.min(rows, done - first), first);
            }
        }
        endSparseStep(dots0, t0, t1, t2, System.nanoTime());
    }

    /**
     * The attention of one layer's block as a range task over the KV heads: a dense layer's rows
     * of the head, or a sparse layer's rows gathered into the head's own {@link SparseAttention},
     * attended by every query of the block in tiles ({@link BlockAttention}). Fields are set per call.
     */
    private final class AttendTask extends BlockAttendTask {
        boolean denseLayer;

        @Override
        public void run(int from, int to, int part) {
            int hd = shape.headDim();
            int group = shape.groupSize();
            int qDim = shape.qDim();
            BlockAttention.Scratch scratch = parts[part];
            for (int u = from; u < to; u++) {
                int at = u * group * hd;
                if (denseLayer) {
                    dense.attendBlock(scratch, layer, u, position, n, q, qOff + at, qDim, group, out, outOff + at);
                } else {
                    gatherRows(layer, u, position + n - 1);
                    headRows[u].attendBlock(q, qOff + at, qDim, group, position, n, out, outOff + at, scratch);
                }
            }
        }
    }

    /** A commit's index growth over the KV heads: the evicted pages' keys into each head's index. */
    private final class GrowTask implements RangeRunner.RangeTask {
        int layer;
        int n;

        @Override
        public void run(int from, int to, int part) {
            for (int h = from; h < to; h++) {
                selector.add(layer, h, evictions.keys(h), 0, evictions.tokens(), 0, n);
            }
        }
    }

    /** Checks that {@code position} lies in the layer's current chunk and opens a metrics step. */
    private void beginSparseStep(int layer, int position) {
        if (position < committed[layer]) {
            throw new IllegalStateException(String.format("attend layer=%d position=%d precedes the current chunk "
                + "(first position %d); attend each position after appending it and before the next chunk",
                    layer, position, committed[layer]));
        }
        attending[layer] = true;
        metrics.beginStep();
    }

    /** Closes a metrics step: select from t0, move from t1, attend from t2 to t3. */
    private void endSparseStep(long dots0, long t0, long t1, long t2, long t3) {
        metrics.endStep(selector.exactDots() - dots0, t1 - t0, t2 - t1, t3 - t2);
    }

    /** blockQuery[head] = mean over the block's n queries of that head, summed in position order. */
    private void blockMeanQueries(int n, float[] q, int qOff) {
        int qDim = shape.qDim();
        Arrays.fill(blockQuery, 0f);
        for (int t = 0; t < n; t++) {
            int at = qOff + t * qDim;
            for (int i = 0; i < qDim; i++) {
                blockQuery[i] += q[at + i];
            }
        }
        float inv = 1f / n;
        for (int i = 0; i < qDim; i++) {
            blockQuery[i] *= inv;
        }
    }

    private void notifyObserver(int layer, int kvHead, int position, int n) {
        if (observed.length < n) {
            observed = new int[Math.max(n, 2 * observed.length)];
        }
        for (int i = 0; i < n; i++) {
            observed[i] = headRows[kvHead].position(i);
        }
        observer.accept(layer, kvHead, position, observed, n);
    }

    private void selectPages(int layer, int position, float[] q, int qOff) {
        selectPages(layer, position, q, qOff, RangeRunner.SERIAL);
    }

    /** Each KV head's page selection; the selector may search the heads' indexes on {@code workers} first. */
    private void selectPages(int layer, int position, float[] q, int qOff, RangeRunner workers) {
        int hd = shape.headDim();
        int group = shape.groupSize();
        selector.prepare(layer, position, q, qOff, group, retrieved, workers);
        for (int h = 0; h < shape.nKvHeads(); h++) {
            int limit = selector.pageIdLimit(layer, h);
            int n;
            if (limit <= retrieved) {
                // everything indexed fits in the budget: attend all of it, no search needed
                n = 0;
                for (int page = 0; page < limit; page++) {
                    if (selector.pageSize(layer, h, page) > 0) {
                        selected[h][n++] = page;
                    }
                }
            } else {
                n = selector.select(layer, h, position, q, qOff + h * group * hd, group, retrieved, selected[h]);
            }
            selectedCount[h] = n;
            metrics.stepPagesSelected += n;
        }
    }

    private void movePages(int layer) {
        plan.clear();
        for (int h = 0; h < shape.nKvHeads(); h++) {
            boolean planned = plan.plan(resident[sparse(layer, h)], selected[h], selectedCount[h]);
            if (!planned) {
                throw new IllegalStateException(String.format(
                        "resident pool exhausted: capacity=%d taken=%d; the pool is sized for the "
                    + "budget, so this is a bug", pool.capacity(), pool.takenSlots()));
            }
        }
        plan.execute(store);
        if (mirror != null) {
            mirror.pagesFetched(plan);
        }
        metrics.stepPagesMoved = plan.fetchCount();
        metrics.stepResidentHits = plan.keptCount();
        metrics.stepBytesMoved = plan.bytesMoved();
    }

    private void gatherRows(int layer, int kvHead, int position) {
        int s = sparse(layer, kvHead);
        int hd = shape.headDim();
        float[] data = pool.data();
        int done = committed[layer];
        SparseAttention attention = headRows[kvHead];
        attention.clear();
        for (int p = 0; p < Math.min(ring.sinkTokens(), done); p++) {
            int at = pool.offset(ring.slot(s, p));
            int r = ring.row(p);
            attention.addRow(p, data, at + layout.keyOffset(r), data, at + layout.valueOffset(r));
        }
        for (int i = 0; i < selectedCount[kvHead]; i++) {
            int page = selected[kvHead][i];
            int slot = pool.slotOf(PageKey.of(layer, kvHead, page));
            int n = selector.pageTokens(layer, kvHead, page, pageRows[kvHead]);
            attention.addPage(layout, data, pool.offset(slot), pageRows[kvHead], n, position);
        }
        for (int p = ring.windowStart(layer); p < done; p++) {
            int r = ring.row(p);
            int at = pool.offset(ring.slot(s, p));
            attention.addRow(p, data, at + layout.keyOffset(r), data, at + layout.valueOffset(r));
        }
        for (int p = done; p <= position; p++) {
            int at = (p - done) * shape.kvDim() + kvHead * hd;
            attention.addRow(p, chunkK[layer], at, chunkV[layer], at);
        }
    }

    /**
     * Writes the sink and window pages that changed since the last snapshot (each page once it
     * holds new rows, never an unchanged one) and the dense layers' new rows to the store, and
     * returns the metadata
     * header plus the index cells changed since the last snapshot. Call at element boundaries:
     * every appended position must have been attended (it commits the current chunks).
     */
    public CacheSnapshot snapshot() {
        for (int l = firstSparse; l < shape.nLayers(); l++) {
            if (committed[l] != length[l] && !attending[l]) {
                throw new IllegalStateException(String.format("snapshot mid-chunk: layer=%d has positions "
                    + "%d..%d appended but not attended; snapshot at element boundaries",
                        l, committed[l], length[l] - 1));
            }
            commit(l);
        }
        metrics.pagesWritten += dense.flush(store, length);
        metrics.pagesWritten += CacheSnapshots.writeEdgePages(this);
        return CacheSnapshots.capture(this);
    }

    /**
     * A cache that continues exactly where the snapshot's cache stood, reading pages from
     * {@code store} (which must hold every page written up to that snapshot).
     *
     * @param header {@link CacheSnapshot#header()} of the latest snapshot
     * @param cells the latest bytes of every index cell from all snapshots so far
     * @throws IllegalArgumentException when the header is corrupt or was written for another shape or config
     */
    public static PagedKvCache restore(CacheShape shape, CacheConfig config, PageStore store, Projection projection,
                                       byte[] header, CacheSnapshot.CellSource cells) {
        PagedKvCache cache = new PagedKvCache(shape, config, store, projection);
        CacheSnapshots.restoreInto(cache, header, cells);
        return cache;
    }

    /**
     * The cache keeps nothing off-heap; the store belongs to the caller and stays open. A mirror
     * (device copy of the pool) is told and detached, so that its pages leave the device.
     */
    @Override
    public void close() {
        ResidentMirror m = mirror;
        if (m != null) {
            mirror = null;
            m.cacheClosed();
        }
    }
}
