package dev.icecache.operators.state;

import java.util.SplittableRandom;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.metrics.CacheCounters;
import dev.icecache.kvcache.page.PageKey;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.CacheSnapshot;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.tree.Projection;

import org.apache.flink.api.common.state.MapState;

/**
 * One document's KV cache together with how it is written back to keyed state:
 *
 * <pre>
 *   FULL                 PersistentFullCache: positional pages in the page store, no metadata
 *   every other policy   kvcache's PagedKvCache: pages in the page store, a header (returned by
 *                        writeBack, kept in the document's value state) and the changed index
 *                        cells (one map state entry each, key = PageKey.of(layer, kvHead, cellId))
 * </pre>
 */
public final class DocumentCache {

    /**
     * Seed of the projection direction shared by all IceCache trees. NOTE: fixed, because a
     * restored tree and the engine-alone reference must project along the same direction.
     */
    public static final long PROJECTION_SEED = 0x1CE_CACEL;

    private final PersistentFullCache full;
    private final PagedKvCache paged;
    private long cellBytesWritten;

    private DocumentCache(PersistentFullCache full, PagedKvCache paged) {
        this.full = full;
        this.paged = paged;
    }

    /** The shared projection for caches of {@code headDim}. */
    public static Projection projection(int headDim) {
        return new Projection(headDim, new SplittableRandom(PROJECTION_SEED));
    }

    /** An empty cache for a new document. */
    public static DocumentCache create(CacheShape shape, CacheConfig config, MapStatePageStore store,
                                       Projection projection) {
        if (config.policy() == Policy.FULL) {
            return new DocumentCache(new PersistentFullCache(shape, store, 0), null);
        }
        return new DocumentCache(null, new PagedKvCache(shape, config, store, projection));
    }

    /**
     * The cache of a document restored from state.
     *
     * @param length positions in the cache (FULL)
     * @param header the header of the last write-back (other policies)
     * @param cells the document's cell map state
     */
    public static DocumentCache restore(CacheShape shape, CacheConfig config, MapStatePageStore store,
                                        Projection projection, int length, byte[] header,
                                        MapState<Long, byte[]> cells) {
        if (config.policy() == Policy.FULL) {
            return new DocumentCache(new PersistentFullCache(shape, store, length), null);
        }
        if (header == null || header.length == 0) {
            throw new IllegalStateException("document state has no cache header for policy " + config.policy()
                    + "; it was written with another policy: restart the job without this state");
        }
        CacheSnapshot.CellSource source = (layer, kvHead, cell) -> {
            try {
                return cells.get(PageKey.of(layer, kvHead, cell));
            } catch (Exception e) {
                throw new IllegalStateException("reading index cell layer=" + layer + " kvHead=" + kvHead + " cell="
                        + cell + " from keyed state failed", e);
            }
        };
        return new DocumentCache(null, PagedKvCache.restore(shape, config, store, projection, header, source));
    }

    /** The cache the model session appends to and attends over. */
    public KvCache kvCache() {
        return full != null ? full : paged;
    }

    /**
     * Releases what the cache holds outside the heap: a GPU backend's device pages of this document
     * (issue 14). The page store is the caller's and stays open; the heap state is kept.
     */
    public void release() {
        kvCache().close();
    }

    /**
     * Writes pages to the store and changed index cells to {@code cells}; call at element
     * boundaries, before {@link MapStatePageStore#flush()}.
     *
     * @return the header to keep in the document's value state (empty for FULL)
     */
    public byte[] writeBack(MapState<Long, byte[]> cells) throws Exception {
        if (full != null) {
            full.writeBack();
            return new byte[0];
        }
        CacheSnapshot snapshot = paged.snapshot();
        for (int i = 0; i < snapshot.cellCount(); i++) {
            cells.put(PageKey.of(snapshot.cellLayer()[i], snapshot.cellHead()[i], snapshot.cellId()[i]),
                    snapshot.cellBytes()[i]);
            cellBytesWritten += Long.BYTES + Integer.BYTES + snapshot.cellBytes()[i].length; // key, length, bytes
        }
        return snapshot.header();
    }

    /** Bytes of index cells (key, length prefix and cell bytes) put into keyed state by this cache so far. */
    public long cellBytesWritten() {
        return cellBytesWritten;
    }

    /** Heap bytes the cache holds (FULL: every page; others: pool, dense rows, chunk rows and index). */
    public long retainedBytes() {
        return full != null ? full.retainedBytes() : paged.retainedBytes();
    }

    /** Pages copied from the store into the resident pool so far (0 for FULL, which keeps all on the heap). */
    public long pagesMoved() {
        return metrics().pagesMoved();
    }

    /** The cache's step counters and timings ({@link CacheCounters#NONE} for FULL, which keeps none). */
    public CacheCounters metrics() {
        return paged == null ? CacheCounters.NONE : paged.metrics();
    }

    /** Share of selected pages already resident (1 for FULL). */
    public double residentHitRate() {
        return metrics().hitRate();
    }

    /** The most pool slots used at once, or -1 for FULL (no pool: every page is on the heap). */
    public int peakResidentPages() {
        return paged == null ? -1 : paged.peakResidentPages();
    }

    /** The pool's capacity in pages, or -1 for FULL. */
    public int poolCapacityPages() {
        return paged == null ? -1 : paged.poolCapacityPages();
    }
}
