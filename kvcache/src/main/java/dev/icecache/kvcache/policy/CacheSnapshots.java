package dev.icecache.kvcache.policy;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.metrics.CacheMetrics;
import dev.icecache.kvcache.page.PageStore;
import dev.icecache.kvcache.select.PageSelector;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The snapshot format of a {@link PagedKvCache}'s metadata and its restore.
 *
 * <pre>
 *   header v1 (little-endian):
 *     int magic "ICKV", int version = 1
 *     int nLayers, nHeads, nKvHeads, headDim, maxTokens          (must match the restoring shape)
 *     int policy code, budgetTokens, denseLayers, pageFormat code   (Policy.code, PageFormat.code;
 *                                                            must match the config)
 *     per layer: int length, int windowFirst
 *     long steps, pagesSelected, residentHits, pagesMoved, bytesMoved, exactDots, pagesWritten
 *   pages (in the store, written by snapshot):
 *     sink page i of (layer, kvHead):    id SINK_ID_BASE + i              (EdgeRing)
 *     window page j of (layer, kvHead):  id WINDOW_ID_BASE + j % windowPages
 *     index pages:                       ids &gt;= 0, kept current by every eviction
 *     dense layers:                      id j = positions 16j ..
 * </pre>
 * Index cells (DCI trees) travel separately, fine-grained; positional indexes are rebuilt by
 * replaying the stored index pages' keys.
 */
final class CacheSnapshots {

    private static final int MAGIC = 0x564b_4349; // "ICKV" as a little-endian int
    private static final int VERSION = 1;

    private CacheSnapshots() {
    }

    /**
     * Writes the sink and window pages of the sparse layers that hold rows committed since the
     * last call (positions {@code edgeStored[l]..committed[l]}): a full sink page is written
     * once, a window page when it gains rows; returns pages written.
     */
    static int writeEdgePages(PagedKvCache c) {
        int[] written = {0};
        float[] data = c.pool.data();
        for (int l = c.firstSparse; l < c.shape.nLayers(); l++) {
            int done = c.committed[l];
            int stored = c.edgeStored[l];
            if (stored == done) {
                continue;
            }
            for (int h = 0; h < c.shape.nKvHeads(); h++) {
                final int layer = l;
                final int head = h;
                c.ring.forEachPage(c.sparse(l, h), l, stored, done, (slot, storeId, rows, sink, page) -> {
                    c.store.write(layer, head, storeId, data, c.pool.offset(slot), rows);
                    written[0]++;
                });
            }
            c.edgeStored[l] = done;
        }
        return written[0];
    }

    /** The header and the index cells changed since the last capture. */
    static CacheSnapshot capture(PagedKvCache c) {
        CacheShape shape = c.shape;
        ByteBuffer b = ByteBuffer.allocate(4 * (11 + 2 * shape.nLayers()) + 8 * 7).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putInt(VERSION);
        b.putInt(shape.nLayers()).putInt(shape.nHeads()).putInt(shape.nKvHeads()).putInt(shape.headDim())
                .putInt(shape.maxTokens());
        CacheConfig cfg = c.config;
        b.putInt(cfg.policy().code()).putInt(cfg.budgetTokens()).putInt(cfg.denseLayers())
                .putInt(cfg.pageFormat().code());
        for (int l = 0; l < shape.nLayers(); l++) {
            b.putInt(c.length[l]).putInt(c.ring.windowFirst(l));
        }
        CacheMetrics m = c.metrics;
        b.putLong(m.steps).putLong(m.pagesSelected).putLong(m.residentHits).putLong(m.pagesMoved)
                .putLong(m.bytesMoved).putLong(m.exactDots).putLong(m.pagesWritten);
        return captureCells(c, b.array());
    }

    private static CacheSnapshot captureCells(PagedKvCache c, byte[] header) {
        PageSelector sel = c.selector;
        int kv = c.shape.nKvHeads();
        int total = 0;
        if (sel.restoresFromCells()) {
            for (int l = c.firstSparse; l < c.shape.nLayers(); l++) {
                for (int h = 0; h < kv; h++) {
                    total += sel.dirtyCellCount(l, h);
                }
            }
        }
        int[] layer = new int[total];
        int[] head = new int[total];
        int[] id = new int[total];
        byte[][] bytes = new byte[total][];
        int n = 0;
        if (sel.restoresFromCells()) {
            for (int l = c.firstSparse; l < c.shape.nLayers(); l++) {
                for (int h = 0; h < kv; h++) {
                    int[] cells = new int[sel.dirtyCellCount(l, h)];
                    int k = sel.drainDirtyCells(l, h, cells);
                    for (int i = 0; i < k; i++) {
                        layer[n] = l;
                        head[n] = h;
                        id[n] = cells[i];
                        bytes[n] = sel.cellBytes(l, h, cells[i]);
                        n++;
                    }
                }
            }
        }
        Checks.checkState(n == total, "tree reported %d dirty cells but drained %d", total, n);
        return new CacheSnapshot(header, layer, head, id, bytes);
    }

    /** Restores a freshly built cache from a header, the store and the index cells. */
    static void restoreInto(PagedKvCache c, byte[] header, CacheSnapshot.CellSource cells) {
        Checks.checkArgument(header != null, "header must not be null");
        ByteBuffer b = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        try {
            readHeader(c, b);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("cache snapshot header truncated: " + header.length
                    + " bytes; the snapshot is corrupt", e);
        }
        Checks.checkArgument(!b.hasRemaining(), "cache snapshot header has %d trailing bytes; the snapshot is corrupt",
                b.remaining());
        for (int l = 0; l < c.firstSparse; l++) {
            c.dense.load(c.store, l, c.length[l]);
        }
        for (int l = c.firstSparse; l < c.shape.nLayers(); l++) {
            for (int h = 0; h < c.shape.nKvHeads(); h++) {
                loadEdgePages(c, l, h);
                if (c.selector.restoresFromCells()) {
                    final int layer = l;
                    final int head = h;
                    c.selector.restore(l, h, cell -> cells.cell(layer, head, cell));
                } else {
                    replayIndex(c, l, h);
                }
            }
        }
    }

    private static void readHeader(PagedKvCache c, ByteBuffer b) {
        int magic = b.getInt();
        int version = b.getInt();
        Checks.checkArgument(magic == MAGIC, "not a cache snapshot header (magic=%x)", magic);
        Checks.checkArgument(version == VERSION, "cache snapshot version=%d unsupported (expected %d)",
                version, VERSION);
        CacheShape s = c.shape;
        CacheShape saved = new CacheShape(b.getInt(), b.getInt(), b.getInt(), b.getInt(), b.getInt());
        Checks.checkArgument(saved.equals(s), "snapshot taken with %s but restoring with %s", saved, s);
        int policy = b.getInt();
        int budget = b.getInt();
        int denseLayers = b.getInt();
        int format = b.getInt();
        CacheConfig cfg = c.config;
        Checks.checkArgument(policy == cfg.policy().code() && budget == cfg.budgetTokens()
                && denseLayers == cfg.denseLayers() && format == cfg.pageFormat().code(),
                "snapshot taken with policy#%d budget=%d denseLayers=%d format#%d but restoring with %s",
                policy, budget, denseLayers, format, cfg);
        int rows = c.layout.rowsPerPage();
        for (int l = 0; l < s.nLayers(); l++) {
            int len = b.getInt();
            int wf = b.getInt();
            Checks.checkArgument(len >= 0 && len <= s.maxTokens(), "layer=%d length=%d outside [0, maxTokens=%d]",
                    l, len, s.maxTokens());
            int pagesPast = Math.max(0, (len - c.ring.sinkTokens() + rows - 1) / rows);
            Checks.checkArgument(wf >= 0 && wf <= pagesPast, "layer=%d windowFirst=%d outside [0, %d]",
                    l, wf, pagesPast);
            c.length[l] = len;
            c.committed[l] = len;
            c.edgeStored[l] = len;
            c.ring.windowFirst(l, wf);
        }
        CacheMetrics m = c.metrics;
        m.steps = b.getLong();
        m.pagesSelected = b.getLong();
        m.residentHits = b.getLong();
        m.pagesMoved = b.getLong();
        m.bytesMoved = b.getLong();
        m.exactDots = b.getLong();
        m.pagesWritten = b.getLong();
    }

    private static void loadEdgePages(PagedKvCache c, int l, int h) {
        float[] data = c.pool.data();
        c.ring.forEachPage(c.sparse(l, h), l, 0, c.committed[l], (slot, storeId, rows, sink, page) ->
                expectRows(c.store.read(l, h, storeId, data, c.pool.offset(slot)), rows, l, h,
                        sink ? "sink" : "window", page));
    }

    private static void replayIndex(PagedKvCache c, int l, int h) {
        int rows = c.layout.rowsPerPage();
        float[] block = new float[c.layout.floatsPerPage()];
        int[] tokens = new int[rows];
        for (int j = 0; j < c.ring.windowFirst(l); j++) {
            expectRows(c.store.read(l, h, j, block, 0), rows, l, h, "index", j);
            for (int r = 0; r < rows; r++) {
                tokens[r] = c.ring.sinkTokens() + j * rows + r;
            }
            c.selector.add(l, h, block, c.layout.keyOffset(0), tokens, 0, rows);
        }
        int m = c.selector.pendingMoves(l, h);
        int[][] sink = new int[5][m];
        c.selector.drainMoves(l, h, sink[0], sink[1], sink[2], sink[3], sink[4]); // pages are already stored
    }

    private static void expectRows(int got, int expected, int layer, int kvHead, String kind, int page) {
        Checks.checkState(got == expected, "%s page %d of layer=%d kvHead=%d has %d rows in the store, expected %d; "
                + "the store does not match this snapshot", kind, page, layer, kvHead, got, expected == PageStore.ABSENT
                ? 0 : expected);
    }
}
