package dev.icecache.operators.document;

/**
 * One piece of a document's text, in reading order. Concatenating the texts of a document's
 * chunks by increasing {@code seq} gives the document exactly (no character is dropped or
 * normalised), which is what lets the tokenizer step reproduce whole-text tokenization.
 *
 * <p>A source that reads untrusted records (Kafka) turns a record it cannot read into a
 * {@linkplain #malformed malformed chunk} instead of failing: {@code seq} is
 * {@link #MALFORMED_SEQ} and {@code text} says what was wrong, so the job reports it in the
 * output and goes on.
 *
 * @param docId the document's id (the key of every keyed step)
 * @param seq 0, 1, 2, ... within the document, or {@link #MALFORMED_SEQ}
 * @param text the characters of this chunk (may be empty only for an empty document); for a
 *             malformed chunk, the problem
 * @param last true on the document's final chunk (and on every malformed chunk)
 */
public record DocumentChunk(String docId, int seq, String text, boolean last) {

    /** The {@code seq} of a malformed chunk; no real chunk has a negative {@code seq}. */
    public static final int MALFORMED_SEQ = -1;

    /**
     * A record that could not be read as a chunk.
     *
     * @param docId the document it names (its key), or an id made from where it was read
     * @param problem one line: where the record was and what is wrong with it
     */
    public static DocumentChunk malformed(String docId, String problem) {
        return new DocumentChunk(docId, MALFORMED_SEQ, problem, true);
    }

    /** True for a chunk made by {@link #malformed}. */
    public boolean isMalformed() {
        return seq == MALFORMED_SEQ;
    }
}
