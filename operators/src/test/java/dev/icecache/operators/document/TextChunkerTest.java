package dev.icecache.operators.document;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class TextChunkerTest {

    @Test
    void shouldRebuildTheTextExactlyWhenChunksAreConcatenated() throws IOException {
        for (long seed = 1; seed <= 200; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            String text = randomText(random, random.nextInt(0, 3000));
            int maxChars = random.nextInt(TextChunker.MIN_CHUNK_CHARS, 300);
            List<DocumentChunk> chunks = chunkAll(new TrickleReader(text, random.nextInt(1, 50)), maxChars);
            StringBuilder joined = new StringBuilder();
            for (int i = 0; i < chunks.size(); i++) {
                DocumentChunk c = chunks.get(i);
                assertEquals(i, c.seq(), "seed=" + seed);
                assertEquals(i == chunks.size() - 1, c.last(), "seed=" + seed + " chunk=" + i);
                assertTrue(c.text().length() <= maxChars, "seed=" + seed + " chunk longer than maxChars");
                assertTrue(c.text().length() > 0 || text.isEmpty(), "seed=" + seed + " empty chunk");
                assertFalse(endsInsidePair(c.text()), "seed=" + seed + " surrogate pair split");
                joined.append(c.text());
            }
            assertEquals(text, joined.toString(), "seed=" + seed);
        }
    }

    @Test
    void shouldCutAtParagraphBreakWhenOneIsInReach() throws IOException {
        String text = "First paragraph. It has two sentences.\n\nSecond paragraph goes on and on and on.";
        List<DocumentChunk> chunks = chunkAll(new StringReader(text), 60);
        assertEquals("First paragraph. It has two sentences.\n\n", chunks.get(0).text());
    }

    @Test
    void shouldCutAfterSentenceEndWhenNoParagraphBreakIsInReach() throws IOException {
        String text = "One short sentence here. Another one follows it closely and runs on further.";
        List<DocumentChunk> chunks = chunkAll(new StringReader(text), 40);
        assertEquals("One short sentence here.", chunks.get(0).text());
    }

    @Test
    void shouldEmitOneEmptyLastChunkWhenTheDocumentIsEmpty() throws IOException {
        TextChunker chunker = new TextChunker(new StringReader(""), "empty", 64);
        DocumentChunk only = chunker.next();
        assertEquals(new DocumentChunk("empty", 0, "", true), only);
        assertNull(chunker.next());
    }

    @Test
    void shouldRejectChunkSizeBelowMinimum() {
        assertThrows(IllegalArgumentException.class, () -> new TextChunker(new StringReader("x"), "d", 3));
    }

    private static List<DocumentChunk> chunkAll(Reader reader, int maxChars) throws IOException {
        TextChunker chunker = new TextChunker(reader, "doc", maxChars);
        List<DocumentChunk> out = new ArrayList<>();
        for (DocumentChunk c = chunker.next(); c != null; c = chunker.next()) {
            out.add(c);
        }
        return out;
    }

    private static boolean endsInsidePair(String s) {
        return !s.isEmpty() && Character.isHighSurrogate(s.charAt(s.length() - 1));
    }

    /** Words, punctuation, newlines, and some astral characters (surrogate pairs). */
    static String randomText(SplittableRandom random, int approxChars) {
        String[] parts = {"the", "cat", "sat", ". ", ", ", " ", " ", "\n", "\n\n", "! ", "naïve", "\uD83D\uDE00", "?",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "  ", "\t"};
        StringBuilder sb = new StringBuilder();
        while (sb.length() < approxChars) {
            sb.append(parts[random.nextInt(parts.length)]);
        }
        return sb.toString();
    }

    /** Returns at most a few characters per read, to exercise refills. */
    private static final class TrickleReader extends Reader {
        private final String text;
        private final int step;
        private int pos;

        TrickleReader(String text, int step) {
            this.text = text;
            this.step = step;
        }

        @Override
        public int read(char[] buf, int off, int len) {
            if (pos >= text.length()) {
                return -1;
            }
            int n = Math.min(Math.min(len, step), text.length() - pos);
            text.getChars(pos, pos + n, buf, off);
            pos += n;
            return n;
        }

        @Override
        public void close() {
        }
    }
}
