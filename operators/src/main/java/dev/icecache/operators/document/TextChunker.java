package dev.icecache.operators.document;

import java.io.IOException;
import java.io.Reader;

/**
 * Cuts a character stream into chunks of at most {@code maxChars}, preferring a paragraph
 * break, then a sentence end, then a space, and only as a last resort a hard cut (never inside
 * a surrogate pair). Holds at most {@code 2 * maxChars} characters, so a document of any size
 * streams through it.
 *
 * <pre>
 *   buffer: [ emitted ... | start ............ cut ........ end ]
 *                           \___ next chunk ___/ \_ kept for later _/
 * </pre>
 *
 * Not thread-safe; one instance per document being read. The caller owns the reader.
 */
public final class TextChunker {

    /** The smallest chunk size accepted: a cut search in a few characters makes no sense. */
    public static final int MIN_CHUNK_CHARS = 16;

    private final Reader reader;
    private final String docId;
    private final int maxChars;
    private final char[] buffer;
    private int end;
    private boolean eof;
    private int nextSeq;
    private boolean done;

    /**
     * @param reader the document's characters; read sequentially, never closed here
     * @param docId id put on every chunk
     * @param maxChars the most characters in one chunk (&gt;= {@link #MIN_CHUNK_CHARS})
     */
    public TextChunker(Reader reader, String docId, int maxChars) {
        if (maxChars < MIN_CHUNK_CHARS) {
            throw new IllegalArgumentException("chunk size maxChars=" + maxChars + " is below "
                    + MIN_CHUNK_CHARS + "; use a larger chunk size");
        }
        this.reader = reader;
        this.docId = docId;
        this.maxChars = maxChars;
        this.buffer = new char[2 * maxChars];
    }

    /** The next chunk, or null after the last one. An empty document gives one empty last chunk. */
    public DocumentChunk next() throws IOException {
        if (done) {
            return null;
        }
        fill();
        int cut = end <= maxChars ? end : cutPoint();
        String text = new String(buffer, 0, cut);
        System.arraycopy(buffer, cut, buffer, 0, end - cut);
        end -= cut;
        if (end == 0) {
            fill();
        }
        boolean last = eof && end == 0;
        done = last;
        return new DocumentChunk(docId, nextSeq++, text, last);
    }

    /** Reads until the buffer holds more than one chunk or the reader is exhausted. */
    private void fill() throws IOException {
        while (!eof && end <= maxChars) {
            int n = reader.read(buffer, end, buffer.length - end);
            if (n < 0) {
                eof = true;
            } else {
                end += n;
            }
        }
    }

    /** Where to end the next chunk, inside {@code (0, maxChars]}; the buffer holds more than that. */
    private int cutPoint() {
        int floor = maxChars / 4; // NOTE: a cut that leaves a tiny chunk is worse than a weaker boundary
        int paragraph = -1;
        int sentence = -1;
        int space = -1;
        for (int i = maxChars; i > floor; i--) {
            char before = buffer[i - 1];
            char after = buffer[i];
            if (paragraph < 0 && before == '\n' && i >= 2 && buffer[i - 2] == '\n' && after != '\n') {
                paragraph = i;
                break;
            }
            if (sentence < 0 && Character.isWhitespace(after) && (before == '.' || before == '!' || before == '?')) {
                sentence = i;
            }
            if (space < 0 && after == ' ' && !Character.isWhitespace(before)) {
                space = i;
            }
        }
        if (paragraph > 0) {
            return paragraph;
        }
        if (sentence > 0) {
            return sentence;
        }
        if (space > 0) {
            return space;
        }
        return Character.isLowSurrogate(buffer[maxChars]) ? maxChars - 1 : maxChars;
    }
}
