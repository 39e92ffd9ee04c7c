package dev.icecache.model.tokenizer;

/** Chooses the tokenizer a vocabulary needs. */
public final class Tokenizers {

    private Tokenizers() {
    }

    /**
     * The tokenizer for {@code vocabulary.model()}: {@code llama} gives a
     * {@link SentencePieceTokenizer}, {@code gpt2} a {@link Gpt2Tokenizer}.
     *
     * @throws IllegalArgumentException for any other tokenizer model
     */
    public static Tokenizer create(Vocabulary vocabulary) {
        String model = vocabulary.model();
        if ("llama".equals(model)) {
            return new SentencePieceTokenizer(vocabulary);
        }
        if ("gpt2".equals(model)) {
            return new Gpt2Tokenizer(vocabulary);
        }
        throw new IllegalArgumentException("unsupported tokenizer model '" + model
                + "' (GGUF tokenizer.ggml.model); supported: llama (SentencePiece), gpt2 (byte-level BPE)");
    }
}
