package dev.icecache.operators.tokenize;

/**
 * Token ids of one piece of a document. Concatenating a document's {@code tokens} by
 * increasing {@code seq} equals tokenizing the whole document text at once (without BOS).
 *
 * @param docId the document's id
 * @param seq 0, 1, 2, ... within the document
 * @param tokens token ids (may be empty)
 * @param last true on the document's final piece
 */
public record TokenChunk(String docId, int seq, int[] tokens, boolean last) {
}
