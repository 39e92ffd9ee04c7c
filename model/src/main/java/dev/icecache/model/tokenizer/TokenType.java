package dev.icecache.model.tokenizer;

/**
 * GGUF token types ({@code tokenizer.ggml.token_type}), as llama.cpp numbers them. A
 * vocabulary without types treats every token as {@link #NORMAL}.
 */
public final class TokenType {

    /** Ordinary text piece. */
    public static final int NORMAL = 1;
    /** The unknown token ({@code <unk>}). */
    public static final int UNKNOWN = 2;
    /** BOS, EOS and other control tokens: never produced from plain text, decoded to nothing. */
    public static final int CONTROL = 3;
    /** Added tokens matched literally in the text before the model's own algorithm runs. */
    public static final int USER_DEFINED = 4;
    /** Reserved slot without a meaning. */
    public static final int UNUSED = 5;
    /** A single raw byte, written {@code <0xXX>} (SentencePiece byte fallback). */
    public static final int BYTE = 6;

    private TokenType() {
    }

    /** The type of {@code token}, {@link #NORMAL} when the vocabulary has no types. */
    static int of(Vocabulary vocabulary, int token) {
        int[] types = vocabulary.tokenTypes();
        return types == null ? NORMAL : types[token];
    }

    /** Whether plain text may turn into this token through the tokenizer's own algorithm. */
    static boolean reachableFromText(int type) {
        return type != CONTROL && type != UNKNOWN;
    }

    /** Whether the special-token pass matches this token literally in the input. */
    static boolean matchedLiterally(int type, boolean parseSpecial) {
        return type == USER_DEFINED || (parseSpecial && (type == CONTROL || type == UNKNOWN));
    }
}
