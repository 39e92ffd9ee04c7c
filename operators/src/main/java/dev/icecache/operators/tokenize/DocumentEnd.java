package dev.icecache.operators.tokenize;

/**
 * The tokenizer step's word that a document has ended, sent on the side output
 * {@link ChunkTokenizer#DOCUMENT_ENDS} once per document. The job joins it with the decoder's
 * final piece of the same document, which then carries {@code note} as its error.
 *
 * @param docId the document's id
 * @param note null when the document ended with its last chunk; else why it was ended early
 *             (idle timeout, malformed record), one line
 * @param decoded true when the decoder got the document (a last token chunk was sent, so a
 *                final piece will come); false when nothing of it reached the decoder and the
 *                note alone is the document's output
 */
public record DocumentEnd(String docId, String note, boolean decoded) {
}
