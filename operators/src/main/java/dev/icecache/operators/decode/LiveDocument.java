package dev.icecache.operators.decode;

import dev.icecache.operators.output.DocumentStats;
import dev.icecache.operators.state.DocumentCache;
import dev.icecache.operators.state.MapStatePageStore;

/** A document's objects while it is in {@link IceCacheDecoder}'s working set. */
final class LiveDocument {
    final DocumentSession session;
    final DocumentCache cache;
    final MapStatePageStore store;
    /** Where the document stands in its segments (one context for a document that fits). */
    final DocumentSegments segments;
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

    /** The document's figures; read in segments, pages moved add up over contexts, the hit rate is the last one's. */
    DocumentStats stats() {
        return new DocumentStats(session.promptTokens(), session.generated(),
                segments.pagesMovedBefore() + cache.pagesMoved(), cache.residentHitRate(), nanos / 1e9,
                segments.contexts());
    }
}
