package dev.icecache.operators.decode;

/**
 * Everything the decoder keeps per document in one keyed value (the KV pages are a map state
 * of their own, one entry per page). A Flink POJO (record), so no Kryo is involved.
 *
 * @param progress where the model run stands
 * @param pieceSeq the {@code seq} of the next text piece to emit
 * @param pendingText bytes of a character not yet complete (at most 3)
 * @param pageCount KV pages in the document's page map state
 * @param nanos processing time spent on the document so far, summed over attempts
 * @param cacheHeader the cache's metadata header from its last write-back (empty for FULL)
 */
public record StoredDocument(DocumentProgress progress, int pieceSeq, byte[] pendingText, int pageCount, long nanos,
                             byte[] cacheHeader) {
}
