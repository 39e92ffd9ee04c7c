package dev.icecache.model.synthetic;

import java.util.List;

import dev.icecache.model.gguf.GgufWriter;
import dev.icecache.model.tokenizer.Vocabulary;

/**
 * A SentencePiece-style vocabulary of any size for random models:
 *
 * <pre>
 *   0 &lt;unk&gt; (unknown), 1 &lt;s&gt;, 2 &lt;/s&gt; (control), 3..258 &lt;0x00&gt;..&lt;0xFF&gt; (byte fallback),
 *   then "▁" and the printable ASCII characters, then "▁" + letter words "▁a", "▁b", ... "▁aa", ...
 * </pre>
 *
 * Scores decrease with the id, so earlier pieces merge first.
 */
public final class SyntheticVocabulary {

    /** Tokens below this id are the fixed specials and bytes; a vocabulary needs at least this many. */
    public static final int MIN_SIZE = 3 + 256 + 1 + 94;

    private final String[] tokens;
    private final float[] scores;
    private final int[] types;

    private SyntheticVocabulary(String[] tokens, float[] scores, int[] types) {
        this.tokens = tokens;
        this.scores = scores;
        this.types = types;
    }

    /** The vocabulary of {@code size} tokens. */
    public static SyntheticVocabulary create(int size) {
        if (size < MIN_SIZE) {
            throw new IllegalArgumentException("vocabulary size=" + size + " must be >= " + MIN_SIZE);
        }
        String[] tokens = new String[size];
        float[] scores = new float[size];
        int[] types = new int[size];
        tokens[0] = "<unk>";
        types[0] = 2;
        tokens[1] = "<s>";
        types[1] = 3;
        tokens[2] = "</s>";
        types[2] = 3;
        for (int b = 0; b < 256; b++) {
            tokens[3 + b] = String.format("<0x%02X>", b);
            types[3 + b] = 6;
        }
        int id = 259;
        tokens[id] = "\u2581";
        types[id++] = 1;
        for (char ch = ' ' + 1; ch < 127; ch++) {
            tokens[id] = String.valueOf(ch);
            types[id++] = 1;
        }
        for (long word = 0; id < size; word++) {
            tokens[id] = "\u2581" + letters(word);
            types[id++] = 1;
        }
        for (int i = 3; i < size; i++) {
            scores[i] = types[i] == 6 ? 0f : -i;
        }
        return new SyntheticVocabulary(tokens, scores, types);
    }

    /** The vocabulary as the tokenizer package's record (bos 1, eos 2, unk 0, add BOS). */
    public Vocabulary toVocabulary() {
        return new Vocabulary("llama", null, tokens.clone(), scores.clone(), types.clone(), List.of(), 1, 2, 0, true);
    }

    /** Writes the {@code tokenizer.ggml.*} keys. */
    public void writeTo(GgufWriter w) {
        w.putString("tokenizer.ggml.model", "llama")
                .putStrings("tokenizer.ggml.tokens", tokens)
                .putFloat32s("tokenizer.ggml.scores", scores)
                .putInt32s("tokenizer.ggml.token_type", types)
                .putUInt32("tokenizer.ggml.bos_token_id", 1)
                .putUInt32("tokenizer.ggml.eos_token_id", 2)
                .putUInt32("tokenizer.ggml.unknown_token_id", 0)
                .putBool("tokenizer.ggml.add_bos_token", true);
    }

    /** Bijective base-26 letters: 0 → "a", 25 → "z", 26 → "aa". */
    private static String letters(long n) {
        StringBuilder sb = new StringBuilder();
        for (long v = n + 1; v > 0; v = (v - 1) / 26) {
            sb.append((char) ('a' + (v - 1) % 26));
        }
        return sb.reverse().toString();
    }
}
