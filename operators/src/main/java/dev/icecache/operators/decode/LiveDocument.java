package dev.icecache.operators.decode;

import dev.icecache.operators.output.DocumentStats;
import dev.icecache.operators.state.DocumentCache;
import dev.icecache.operators.state.MapStatePageStore;

/** A document's objects while it is in {@link IceCacheDecoder}'s working set. */
final class LiveDocument {
    /** The session's own objects (logits, held tokens, sampler) counted per document. */
    static final long SESSION_BYTES = 64 << 10;

    final DocumentSession session;
    final DocumentCache cache;
    final MapStatePageStore store;
    /** Where the document stands in its segments (one context for a document that fits). */
    final DocumentSegments segments;
    final StateWrites writes = new StateWrites();
    /** Heap bytes at the last element boundary (see {@link #retainedBytes()}). */
    long bytes;
    /** Processing time since it was loaded. */
    long activeNanos;
    /** How long loading (restoring) it took. */
    long loadNanos;
    /** {@link System#nanoTime()} at the end of its last element. */
    long lastUsedNanos = System.nanoTime();
    /** Whether the hint that its page writes outgrew the budget's room was logged (once per load). */
    boolean toldWriteThrough;
    int pieceSeq;
    byte[] pendingText;
    long nanos;

    LiveDocument(DocumentSession session, DocumentCache cache, MapStatePageStore store, DocumentSegments segments,
                 int pieceSeq, byte[] pendingText, long nanos) {
        this.session = session;
        this.cache = cache;
        this.store = store;
        this.segments = segments;
        this.pieceSeq = pieceSeq;
        this.pendingText = pendingText;
        this.nanos = nanos;
    }

    /** Unloads it: its device pages leave the GPU (issue 14), its store closes (written back already). */
    void release() {
        cache.release();
        store.close();
    }

    /** Heap bytes the document holds: its cache (trees, dense rows, pool, chunk buffers) and the store's tables. */
    long retainedBytes() {
        return cache.retainedBytes() + store.retainedBytes() + SESSION_BYTES;
    }

    /** Whether it decoded long enough since it was loaded, or has been idle long enough, to be unloaded for another. */
    boolean servedResidency() {
        return activeNanos >= Math.max(DocumentAdmission.MIN_RESIDENCY_NANOS,
                DocumentAdmission.RESIDENCY_FACTOR * loadNanos)
                || System.nanoTime() - lastUsedNanos >= DocumentAdmission.IDLE_NANOS;
    }

    /** The document's figures; read in segments, pages moved add up over contexts, the hit rate is the last one's. */
    DocumentStats stats() {
        return new DocumentStats(session.promptTokens(), session.generated(),
                segments.pagesMovedBefore() + cache.pagesMoved(), cache.residentHitRate(), nanos / 1e9,
                segments.contexts());
    }
}
