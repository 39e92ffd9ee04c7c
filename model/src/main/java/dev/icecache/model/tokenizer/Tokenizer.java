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
