package dev.icecache.operators.decode;

import dev.icecache.operators.output.DocumentStats;
import dev.icecache.operators.state.DocumentCache;
import dev.icecache.operators.state.MapStatePageStore;

/** A document's objects while it is in {@link IceCacheDecoder}'s working set. */
final class LiveDocument {
    final DocumentSession session;
    final DocumentCache cache;
    final MapStatePageStore store;
    final StateWrites writes = new StateWrites();
    int pieceSeq;
    byte[] pendingText;
    long nanos;

    LiveDocument(DocumentSession session, DocumentCache cache, MapStatePageStore store, int pieceSeq,
                 byte[] pendingText, long nanos) {
        this.session = session;
        this.cache = cache;
        this.store = store;
        this.pieceSeq = pieceSeq;
        this.pendingText = pendingText;
        this.nanos = nanos;
    }

    DocumentStats stats() {
        return new DocumentStats(session.promptTokens(), session.generated(), cache.pagesMoved(),
                cache.residentHitRate(), nanos / 1e9);
    }
}
