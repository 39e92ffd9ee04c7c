package dev.icecache.kvcache.policy;

import dev.icecache.kvcache.page.PageKey;
import dev.icecache.kvcache.page.PagePool;

/**
 * Where the pinned edge rows of the sparse streams live: the sink pages (positions
 * {@code 0..sinkTokens-1}, never evicted) and the window ring (the newest {@code windowPages}
 * pages past the sink), by pool slot and by store id. Used by commit, gather, snapshot and restore.
 *
 * <pre>
 *   position p &lt; sinkTokens:  sink page p / rows, row p % rows          store id SINK_ID_BASE + page
 *   position p &gt;= sinkTokens: positional window page j = (p - sinkTokens) / rows, row (p - sinkTokens) % rows,
 *                             ring entry j % windowPages                   store id WINDOW_ID_BASE + j % windowPages
 *   windowFirst[layer]       the oldest positional window page still in the ring; pages before it are in the index
 * </pre>
 */
final class EdgeRing {

    /** Store id of sink page i of a stream: SINK_ID_BASE + i (index pages have ids &gt;= 0). */
    static final int SINK_ID_BASE = Integer.MIN_VALUE;
    /** Store id of window ring entry w of a stream: WINDOW_ID_BASE + w. */
    static final int WINDOW_ID_BASE = Integer.MIN_VALUE + 1024;

    /** One edge page holding positions of a range (see {@link #forEachPage}). */
    interface PageVisitor {
        /**
         * @param slot pool slot of the page
         * @param storeId the page's id in the store
         * @param rows rows of the page that hold positions before the range's end
         * @param sink whether it is a sink page (else a window page)
         * @param page sink page index, or the positional window page index
         */
        void page(int slot, int storeId, int rows, boolean sink, int page);
    }

    private final int rows;
    private final int sinkTokens;
    private final int sinkPages;
    private final int windowPages;
    private final int[] windowFirst;    // [layer]
    private final int[][] sinkSlots;    // [stream][sinkPages]
    private final int[][] windowSlots;  // [stream][windowPages], positional page j at j % windowPages

    EdgeRing(int rowsPerPage, CacheConfig config, int layers, int streams) {
        this.rows = rowsPerPage;
        this.sinkTokens = config.sinkTokens();
        this.sinkPages = config.sinkPages();
        this.windowPages = config.windowPages();
        this.windowFirst = new int[layers];
        this.sinkSlots = new int[streams][];
        this.windowSlots = new int[streams][];
    }

    /** Takes and pins the sink and window slots of one stream in {@code pool}. */
    void pin(PagePool pool, int stream, int layer, int kvHead) {
        sinkSlots[stream] = pinnedSlots(pool, layer, kvHead, SINK_ID_BASE, sinkPages);
        windowSlots[stream] = pinnedSlots(pool, layer, kvHead, WINDOW_ID_BASE, windowPages);
    }

    private static int[] pinnedSlots(PagePool pool, int layer, int kvHead, int idBase, int n) {
        int[] slots = new int[n];
        for (int i = 0; i < n; i++) {
            slots[i] = pool.take();
            pool.pin(slots[i]);
            pool.assign(slots[i], PageKey.of(layer, kvHead, idBase + i));
        }
        return slots;
    }

    /** Pages pinned per stream (sink + window). */
    int pinnedPages() {
        return sinkPages + windowPages;
    }

    int sinkTokens() {
        return sinkTokens;
    }

    /** The oldest positional window page of a layer still in the ring. */
    int windowFirst(int layer) {
        return windowFirst[layer];
    }

    /** Sets the oldest window page (restore). */
    void windowFirst(int layer, int page) {
        windowFirst[layer] = page;
    }

    /** The first position of a layer held by the window (positions before it are in sink or index). */
    int windowStart(int layer) {
        return Math.max(sinkTokens, sinkTokens + windowFirst[layer] * rows);
    }

    /** Whether committing position {@code p} first needs the oldest window page of the layer evicted. */
    boolean full(int layer, int p) {
        return p >= sinkTokens && (p - sinkTokens) / rows >= windowFirst[layer] + windowPages;
    }

    /** The first position of the oldest window page of a layer (the page {@link #advance} drops). */
    int oldestStart(int layer) {
        return sinkTokens + windowFirst[layer] * rows;
    }

    /** Pool slot of the oldest window page of a stream of the layer. */
    int oldestSlot(int stream, int layer) {
        return windowSlots[stream][windowFirst[layer] % windowPages];
    }

    /** Drops the oldest window page of a layer from the ring (after its rows went to the index). */
    void advance(int layer) {
        windowFirst[layer]++;
    }

    /** Pool slot holding position {@code p} (in the sink or the ring) of a stream. */
    int slot(int stream, int p) {
        return p < sinkTokens ? sinkSlots[stream][p / rows] : windowSlots[stream][(p - sinkTokens) / rows % windowPages];
    }

    /** Row of position {@code p} inside its sink or window page. */
    int row(int p) {
        return p < sinkTokens ? p % rows : (p - sinkTokens) % rows;
    }

    /**
     * Visits the sink and window pages of a stream holding positions {@code from..done-1}
     * ({@code done} = positions committed to the layer; from 0: every edge page with rows), each
     * with its rows before {@code done}.
     */
    void forEachPage(int stream, int layer, int from, int done, PageVisitor visitor) {
        for (int i = from / rows; i < sinkPages && i * rows < done; i++) {
            visitor.page(sinkSlots[stream][i], SINK_ID_BASE + i, Math.min(rows, done - i * rows), true, i);
        }
        int firstWindow = Math.max(windowFirst[layer], Math.max(0, from - sinkTokens) / rows);
        for (int j = firstWindow; sinkTokens + j * rows < done; j++) {
            int w = j % windowPages;
            visitor.page(windowSlots[stream][w], WINDOW_ID_BASE + w, Math.min(rows, done - sinkTokens - j * rows),
                    false, j);
        }
    }
}
