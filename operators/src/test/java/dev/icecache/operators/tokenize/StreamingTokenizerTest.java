package dev.icecache.operators.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;

import dev.icecache.model.tokenizer.Tokenizer;
import dev.icecache.model.tokenizer.Vocabulary;
import org.junit.jupiter.api.Test;

/** The cutting and carry logic, with a character-level stand-in for SentencePiece. */
class StreamingTokenizerTest {

    @Test
    void shouldCutBeforeTheLastSpaceBetweenTwoNonSpaces() {
        assertEquals(7, StreamingTokenizer.safeCut("one two three"));
        assertEquals(0, StreamingTokenizer.safeCut("nospace"));
        assertEquals(0, StreamingTokenizer.safeCut("trailing "));
        assertEquals(3, StreamingTokenizer.safeCut("one two  "));
        assertEquals(0, StreamingTokenizer.safeCut(" lead"));
    }

    @Test
    void shouldEqualWholeTextTokensForAnyChunkingWithPrefixSpaceTokenizer() {
        StreamingTokenizer streaming = new StreamingTokenizer(new CharTokenizer("llama"));
        CharTokenizer whole = new CharTokenizer("llama");
        for (long seed = 1; seed <= 300; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            String text = randomWords(random, random.nextInt(0, 400));
            assertArrayEquals(whole.encode(text), streamed(streaming, text, random), "seed=" + seed + " text=" + text);
        }
    }

    @Test
    void shouldEmitNothingUntilASafeBoundaryArrives() {
        StreamingTokenizer streaming = new StreamingTokenizer(new CharTokenizer("llama"));
        StreamingTokenizer.Step step = streaming.accept("d", TokenizerCarry.START, "abc", false);
        assertNull(step.chunk());
        assertEquals("abc", step.carry().tail());
    }

    @Test
    void shouldAlwaysEmitALastChunkEvenWhenEmpty() {
        StreamingTokenizer streaming = new StreamingTokenizer(new CharTokenizer("llama"));
        StreamingTokenizer.Step step = streaming.accept("d", TokenizerCarry.START, "", true);
        assertTrue(step.chunk().last());
        assertEquals(0, step.chunk().tokens().length);
    }

    @Test
    void shouldRejectSentencePieceVocabularyWithInnerWordBoundary() {
        CharTokenizer bad = new CharTokenizer("llama", "a\u2581b");
        assertThrows(IllegalArgumentException.class, () -> new StreamingTokenizer(bad));
    }

    @Test
    void shouldRejectUnknownTokenizerFamily() {
        assertThrows(IllegalArgumentException.class, () -> new StreamingTokenizer(new CharTokenizer("wordpiece")));
    }

    private static int[] streamed(StreamingTokenizer streaming, String text, SplittableRandom random) {
        TokenizerCarry carry = TokenizerCarry.START;
        int[] out = new int[0];
        int pos = 0;
        int expectedSeq = 0;
        while (true) {
            int n = Math.min(text.length() - pos, random.nextInt(0, 40));
            boolean last = pos + n == text.length() && random.nextInt(4) == 0;
            StreamingTokenizer.Step step = streaming.accept("d", carry, text.substring(pos, pos + n), last);
            pos += n;
            carry = step.carry();
            if (step.chunk() != null) {
                assertEquals(expectedSeq++, step.chunk().seq());
                int[] t = step.chunk().tokens();
                int[] joined = java.util.Arrays.copyOf(out, out.length + t.length);
                System.arraycopy(t, 0, joined, out.length, t.length);
                out = joined;
                if (step.chunk().last()) {
                    return out;
                }
            }
        }
    }

    private static String randomWords(SplittableRandom random, int approxChars) {
        String[] parts = {"a", "bc", "def", " ", " ", "  ", "\n", ".", "\n\n", "x"};
        StringBuilder sb = new StringBuilder();
        while (sb.length() < approxChars) {
            sb.append(parts[random.nextInt(parts.length)]);
        }
        return sb.toString();
    }

    /**
     * One token per character after SentencePiece's preprocessing ("▁" prefix, spaces become
     * "▁"): the token of a char is its code. Not merging is enough to check the prefix rule.
     */
    private static final class CharTokenizer implements Tokenizer {
        private final Vocabulary vocab;

        CharTokenizer(String family, String... extraPieces) {
            String[] pieces = new String[3 + extraPieces.length];
            pieces[0] = "<unk>";
            pieces[1] = "<s>";
            pieces[2] = "</s>";
            System.arraycopy(extraPieces, 0, pieces, 3, extraPieces.length);
            vocab = new Vocabulary(family, null, pieces, null, null, List.of(), 1, 2, 0, true);
        }

        @Override
        public Vocabulary vocabulary() {
            return vocab;
        }

        @Override
        public int[] encode(String text) {
            if (text.isEmpty()) {
                return new int[0];
            }
            String s = "\u2581" + text.replace(' ', '\u2581');
            return s.chars().toArray();
        }

        @Override
        public byte[] tokenBytes(int token) {
            return new byte[0];
        }

        @Override
        public String decode(int[] tokens) {
            return "";
        }
    }
}
