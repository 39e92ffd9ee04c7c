package dev.icecache.model.tokenizer;

/**
 * Text to token ids and back. Implementations are immutable and thread-safe.
 */
public interface Tokenizer {

    /** The vocabulary this tokenizer was built from. */
    Vocabulary vocabulary();

    /**
     * Encodes text without BOS or EOS. For SentencePiece models a leading space is added as
     * llama.cpp does ({@code add_space_prefix}). Any Java string is accepted, including
     * lone surrogates (encoded as their replacement).
     */
    int[] encode(String text);

    /**
     * Encodes text without BOS or EOS; with {@code parseSpecial}, the pieces of control tokens
     * written in the text (such as {@code <s>}) become those tokens, as llama.cpp's
     * {@code parse_special} does. Without it this is {@link #encode(String)}.
     *
     * @throws UnsupportedOperationException when this tokenizer cannot parse special tokens
     */
    default int[] encode(String text, boolean parseSpecial) {
        if (parseSpecial) {
            throw new UnsupportedOperationException(getClass().getSimpleName() + " does not parse special tokens");
        }
        return encode(text);
    }

    /** The bytes of one token as they belong in the output (byte tokens give their byte). */
    byte[] tokenBytes(int token);

    /**
     * Decodes a run of tokens to text; invalid UTF-8 becomes U+FFFD, never an exception.
     * SentencePiece's leading space of the first piece is kept, as llama.cpp's detokenizer does.
     */
    String decode(int[] tokens);

    default int bos() {
        return vocabulary().bos();
    }

    default int eos() {
        return vocabulary().eos();
    }
}
