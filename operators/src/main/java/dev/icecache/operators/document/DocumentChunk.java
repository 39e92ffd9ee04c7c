package dev.icecache.operators.document;

/**
 * One piece of a document's text, in reading order. Concatenating the texts of a document's
 * chunks by increasing {@code seq} gives the document exactly (no character is dropped or
 * normalised), which is what lets the tokenizer step reproduce whole-text tokenization.
 *
 * @param docId the document's id (the key of every keyed step)
 * @param seq 0, 1, 2, ... within the document
 * @param text the characters of this chunk (may be empty only for an empty document)
 * @param last true on the document's final chunk
 */
public record DocumentChunk(String docId, int seq, String text, boolean last) {
}
