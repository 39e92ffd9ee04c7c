package dev.icecache.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Gpt2TokenizerTest {

    private static final Vocabulary VOCABULARY = SyntheticVocabularies.llama3(300);

    @Test
    void shouldEqualNaiveBpeWordByWordOnRandomTexts() {
        Gpt2Tokenizer tokenizer = new Gpt2Tokenizer(VOCABULARY);
        Map<String, Integer> pieces = NaiveBpe.textPieces(VOCABULARY);
        long seed = 31337L;
        Random random = new Random(seed);
        for (int i = 0; i < 500; i++) {
            String text = random.nextBoolean() ? PreTokenizerTest.randomText(random, random.nextInt(40))
                    : corpusSlice(random);
            List<Integer> expected = new ArrayList<>();
            // the oracle's String.getBytes would write '?' for a surrogate cut in half
            String clean = replaceLoneSurrogates(text);
            for (String word : PreTokenizerTest.split(PreTokenizer.LLAMA3, clean)) {
                Integer whole = pieces.get(byteLevel(word));
                if (whole != null) {
                    expected.add(whole);
                } else {
                    expected.addAll(NaiveBpe.byteLevelWord(VOCABULARY, word));
                }
            }
            assertEquals(expected, SentencePieceTokenizerTest.boxed(tokenizer.encode(text)),
                    "seed=" + seed + " i=" + i + " text=" + PreTokenizerTest.escape(text));
        }
    }

    static String replaceLoneSurrogates(String text) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1));
            if (pair) {
                sb.append(c).append(text.charAt(++i));
            } else {
                sb.append(Character.isSurrogate(c) ? '\ufffd' : c);
            }
        }
        return sb.toString();
    }

    private static String corpusSlice(Random random) {
        String corpus = SyntheticVocabularies.CORPUS;
        int from = random.nextInt(corpus.length() - 1);
        int to = Math.min(corpus.length(), from + 1 + random.nextInt(60));
        return corpus.substring(from, to);
    }

    private static String byteLevel(String word) {
        StringBuilder sb = new StringBuilder();
        for (byte b : word.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            sb.append(ByteLevelAlphabet.charOf(b & 0xFF));
        }
        return sb.toString();
    }

    @Test
    void shouldRoundTripAnyString() {
        Tokenizer tokenizer = Tokenizers.create(VOCABULARY);
        long seed = 5L;
        Random random = new Random(seed);
        for (int i = 0; i < 300; i++) {
            String text = Llama2cTokenizerFileTest.randomUnicode(random, random.nextInt(50));
            assertEquals(text, tokenizer.decode(tokenizer.encode(text)), "seed=" + seed + " i=" + i);
        }
        assertEquals("a\ufffdb\ufffd", tokenizer.decode(tokenizer.encode("a\ud800b\udfff")));
    }

    @Test
    void shouldMergeFrequentWordsIntoOneToken() {
        Tokenizer tokenizer = Tokenizers.create(VOCABULARY);
        Map<String, Integer> ids = SyntheticVocabularies.ids(VOCABULARY);
        // " the" is the most frequent word of the training text, so it is a token
        assertArrayEquals(new int[] {ids.get("\u0120the")}, tokenizer.encode(" the"));
    }

    @Test
    void shouldParseControlTokensOnlyWhenAsked() {
        Tokenizer tokenizer = Tokenizers.create(VOCABULARY);
        int bos = VOCABULARY.bos();
        int[] parsed = tokenizer.encode(SyntheticVocabularies.BOS + "the", true);
        assertEquals(bos, parsed[0]);
        assertArrayEquals(tokenizer.encode("the"), Arrays.copyOfRange(parsed, 1, parsed.length));
        int[] plain = tokenizer.encode(SyntheticVocabularies.BOS + "the");
        assertFalse(Arrays.stream(plain).anyMatch(id -> id == bos), Arrays.toString(plain));
        assertEquals(SyntheticVocabularies.BOS + "the", tokenizer.decode(plain));
    }

    @Test
    void shouldDecodeControlTokensToNothingAndBadBytesToReplacement() {
        Tokenizer tokenizer = Tokenizers.create(VOCABULARY);
        int lead = SyntheticVocabularies.ids(VOCABULARY).get(String.valueOf(ByteLevelAlphabet.charOf(0xE4)));
        assertEquals("x\ufffd", tokenizer.decode(new int[] {VOCABULARY.bos(), 'x' - 0, lead, VOCABULARY.eos()}));
    }

    @Test
    void shouldRejectUnknownTokenizerModel() {
        Vocabulary bert = new Vocabulary("bert", null, new String[] {"a"}, null, null, List.of(), -1, -1, -1, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.create(bert));
        assertEquals("unsupported tokenizer model 'bert' (GGUF tokenizer.ggml.model); supported: llama (SentencePiece),"
                + " gpt2 (byte-level BPE)", e.getMessage());
    }

    @Test
    void shouldRejectMergeWithoutSeparator() {
        Vocabulary broken = new Vocabulary("gpt2", "llama-bpe", new String[] {"a"}, null, null, List.of("ab"), -1, -1, -1, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.create(broken));
        assertEquals("BPE merge 0 'ab' has no space between its two parts; the vocabulary's merges are corrupt", e.getMessage());
    }

    @Test
    void shouldEncodeMegabyteTextAndRoundTrip() {
        Tokenizer tokenizer = Tokenizers.create(VOCABULARY);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 1 << 20) {
            sb.append(SyntheticVocabularies.CORPUS).append(' ');
        }
        String text = sb.toString();
        assertEquals(text, tokenizer.decode(tokenizer.encode(text)));
    }
}
