package dev.icecache.operators.decode;

import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.Policy;

import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;

/**
 * The live documents of one decoder subtask, bounded by bytes ({@code icecache.memory.budget})
 * and by a count ({@code icecache.working-set.documents}), least recently used first.
 *
 * <pre>
 *   load(doc)     makeRoom(estimate): unload LRU documents until the estimate fits; a document
 *                 within its residency (decoding for less than RESIDENCY_FACTOR x its load
 *                 time) is unloaded only for a chunk (preempt), never for another's decode slice
 *   decode slice  of an unloaded document that does not fit without preempting: queued (its
 *                 timer is re-registered later), so a few documents decode long stretches
 *                 instead of all of them restoring at every slice
 *   each element  refresh(doc): its bytes (trees, dense rows, pool, chunk buffers, pending pages)
 * </pre>
 *
 * Unloading only drops the heap objects: every document was written back to keyed state at
 * its last element boundary. Used on the task thread only.
 */
public final class DocumentAdmission {

    /** A loaded document decodes at least this many times its load (restore) time before it may be unloaded for another. */
    public static final int RESIDENCY_FACTOR = 20;
    /** ... and at least this long (fresh documents cost nothing to load but a lot to restore later). */
    static final long MIN_RESIDENCY_NANOS = 500_000_000L;
    /** A live document without an element for this long is idle: it may be unloaded for another at any time. */
    static final long IDLE_NANOS = 1_000_000_000L;
    /** Positions a document must have before its bytes per token replace the shape's estimate. */
    static final int LEARN_AFTER_TOKENS = 256;

    private final long budgetBytes;
    private final int maxDocuments;
    private final LinkedHashMap<String, LiveDocument> live = new LinkedHashMap<>(16, 0.75f, true);
    private final Set<String> queued = new HashSet<>();
    private long liveBytes;
    private long restores;
    private long restoreNanos;
    private long bytesPerToken;
    private long fixedBytes;
    private int peakLive;

    /**
     * @param budgetBytes heap bytes the live documents may hold (> 0)
     * @param maxDocuments most live documents (>= 1)
     * @param bytesPerToken the estimate of a live document's heap per cache position until one
     *                      has measured it ({@link #bytesPerToken})
     */
    public DocumentAdmission(long budgetBytes, int maxDocuments, long bytesPerToken) {
        if (budgetBytes <= 0 || maxDocuments < 1 || bytesPerToken < 1) {
            throw new IllegalArgumentException("budgetBytes=" + budgetBytes + " maxDocuments=" + maxDocuments
                    + " bytesPerToken=" + bytesPerToken);
        }
        this.budgetBytes = budgetBytes;
        this.maxDocuments = maxDocuments;
        this.bytesPerToken = bytesPerToken;
    }

    /**
     * Heap per cache position of a live document, from the shape: FULL keeps every K and V row
     * in F32; the other policies keep the dense layers' rows in the page format (BF16: 2 bytes a
     * value) and, per sparse (layer, KV head), one index node: its int8 key codes (headDim bytes)
     * and scale, and {@link #NODE_METADATA_BYTES} of node metadata, page rows and growth room.
     */
    public static long bytesPerToken(CacheShape shape, CacheConfig config) {
        if (config.policy() == Policy.FULL) {
            return shape.nLayers() * shape.nKvHeads() * 2L * shape.headDim() * Float.BYTES;
        }
        long row = 2L * shape.headDim() * config.pageFormat().bytesPerFloat();
        int dense = Math.min(config.denseLayers(), shape.nLayers());
        long tree = shape.headDim() + Float.BYTES + NODE_METADATA_BYTES;
        return dense * shape.nKvHeads() * row + (shape.nLayers() - dense) * shape.nKvHeads() * tree;
    }

    /**
     * Heap per index node besides its key (codes and scale): norm, projection, level, parent, page
     * and slot, its page row, its level list entry, its cell reference, and the tables' growth room;
     * `bench memory` measures about 40 bytes (BENCHMARKS.md, "Memory per live document").
     */
    static final long NODE_METADATA_BYTES = 44;
    /**
     * The budget of one decoder subtask when none is configured: half the JVM's heap divided
     * by the TaskManager's task slots, at least 64 MiB.
     */
    public static long derivedBudget(long maxHeapBytes, int slots) {
        return Math.max(64L << 20, maxHeapBytes / 2 / Math.max(1, slots));
    }

    /** The bound in bytes. */
    public long budgetBytes() {
        return budgetBytes;
    }

    /** The live document, or null (marks it most recently used). */
    LiveDocument get(String id) {
        return live.get(id);
    }

    boolean isLive(String id) {
        return live.containsKey(id);
    }

    /** Estimated bytes of a document of {@code tokens} cache positions once loaded, from what live documents measured. */
    long estimate(long tokens) {
        return fixedBytes + bytesPerToken * tokens;
    }

    /** Estimated bytes {@code tokens} more positions add to a document. */
    long estimateGrowth(long tokens) {
        return bytesPerToken * tokens;
    }

    /**
     * Bytes the budget leaves free once the live documents grow by {@code tokens} positions
     * (negative when over): what a document may hold in page writes until its element ends.
     */
    long room(long tokens) {
        return budgetBytes - liveBytes - estimateGrowth(tokens);
    }

    /** Whether {@code bytes} more fit after unloading only documents past their residency. */
    boolean fitsWithoutPreempting(long bytes) {
        long free = budgetBytes - liveBytes;
        int count = live.size();
        for (LiveDocument d : live.values()) {
            if (free >= bytes && count < maxDocuments) {
                return true;
            }
            if (d.servedResidency()) {
                free += d.bytes;
                count--;
            }
        }
        return free >= bytes && count < maxDocuments;
    }

    /**
     * Unloads least recently used documents until {@code bytes} more and {@code documents} more
     * documents fit (or none is left to unload); with {@code preempt} false only documents past
     * their residency go, and {@code keep} (may be null) never.
     */
    void makeRoom(long bytes, int documents, boolean preempt, LiveDocument keep) {
        Iterator<Map.Entry<String, LiveDocument>> it = live.entrySet().iterator();
        while ((liveBytes + bytes > budgetBytes || live.size() + documents > maxDocuments) && it.hasNext()) {
            Map.Entry<String, LiveDocument> e = it.next();
            LiveDocument d = e.getValue();
            if (d == keep || (!preempt && !d.servedResidency())) {
                continue;
            }
            it.remove();
            liveBytes -= d.bytes;
            d.release(); // everything was written back at its last element boundary
        }
    }

    /** Adds a loaded document; {@code restored}: it was rebuilt from state in {@code loadNanos}. */
    void add(String id, LiveDocument doc, boolean restored, long loadNanos) {
        doc.loadNanos = loadNanos;
        doc.bytes = doc.retainedBytes();
        live.put(id, doc);
        liveBytes += doc.bytes;
        queued.remove(id);
        if (restored) {
            restores++;
            restoreNanos += loadNanos;
        } else if (fixedBytes == 0) {
            fixedBytes = doc.bytes;
        }
        peakLive = Math.max(peakLive, live.size());
    }

    /** After an element of a live document: its bytes now, and the processing time it got. */
    void refresh(LiveDocument doc, long elementNanos, long cachePositions) {
        long before = doc.bytes;
        doc.bytes = doc.retainedBytes();
        doc.activeNanos += elementNanos;
        liveBytes += doc.bytes - before;
        if (cachePositions >= LEARN_AFTER_TOKENS && doc.bytes > fixedBytes) {
            bytesPerToken = Math.max(1, (doc.bytes - fixedBytes) / cachePositions);
        }
    }

    /** Drops a document that finished or was rejected. */
    void remove(String id) {
        LiveDocument d = live.remove(id);
        if (d != null) {
            liveBytes -= d.bytes;
            d.release();
        }
        queued.remove(id);
    }

    /** Notes that a document waits for room to decode. */
    void queue(String id) {
        queued.add(id);
    }

    long liveBytes() {
        return liveBytes;
    }

    int liveCount() {
        return live.size();
    }

    int queuedCount() {
        return queued.size();
    }

    long restores() {
        return restores;
    }

    long restoreNanos() {
        return restoreNanos;
    }

    int peakLive() {
        return peakLive;
    }

    /**
     * Gauges in the decoder's metric group: live bytes, bytes per document, documents live/queued,
     * restores, and the device bytes the live documents hold on the subtask's GPU (0 on the CPU).
     *
     * @param deviceBytes the subtask's device bytes now ({@link dev.icecache.model.ForwardPass#deviceBytes})
     */
    void registerGauges(MetricGroup metrics, LongSupplier deviceBytes) {
        metrics.gauge("memoryBudgetBytes", (Gauge<Long>) () -> budgetBytes);
        metrics.gauge("liveBytes", (Gauge<Long>) () -> liveBytes);
        metrics.gauge("deviceBytes", (Gauge<Long>) deviceBytes::getAsLong);
        metrics.gauge("bytesPerDocument", (Gauge<Long>) () -> live.isEmpty() ? 0L : liveBytes / live.size());
        metrics.gauge("documentsLive", (Gauge<Integer>) live::size);
        metrics.gauge("documentsQueued", (Gauge<Integer>) queued::size);
        metrics.gauge("restores", (Gauge<Long>) () -> restores);
        metrics.gauge("restoreMillis", (Gauge<Long>) () -> restoreNanos / 1_000_000);
    }
}
