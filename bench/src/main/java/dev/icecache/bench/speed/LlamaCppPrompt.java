package dev.icecache.bench.speed;

/**
 * A prompt of a given length in words for llama.cpp at a context: one-letter words
 * ({@code " a b c ... z a b ..."}), each of which the random models' vocabulary
 * ({@code SyntheticVocabulary}: "▁a", "▁b", ...) holds as one token, so n words are about n tokens.
 */
public final class LlamaCppPrompt {

    private LlamaCppPrompt() {
    }

    /** {@code words} one-letter words separated by spaces. */
    public static String ofWords(int words) {
        if (words < 1) {
            throw new IllegalArgumentException("words=" + words + " must be >= 1");
        }
        StringBuilder sb = new StringBuilder(2 * words);
        for (int i = 0; i < words; i++) {
            sb.append(i == 0 ? "" : " ").append((char) ('a' + i % 26));
        }
        return sb.toString();
    }
}
