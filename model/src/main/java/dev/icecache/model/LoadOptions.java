package dev.icecache.model;

import java.nio.file.Path;

/**
 * How to load a model file.
 *
 * @param tokenizerFile llama2.c {@code tokenizer.bin} for a legacy {@code .bin} model, or null
 *                      (then {@code tokenizer.bin} beside the model is used when present;
 *                      ignored for GGUF, whose vocabulary is inside)
 * @param contextLength context length overriding the file's (some files state it wrongly), or
 *                      0 to use the file's
 */
public record LoadOptions(Path tokenizerFile, int contextLength) {

    public LoadOptions {
        if (contextLength < 0) {
            throw new IllegalArgumentException("contextLength=" + contextLength + " must be >= 0 (0 = from the file)");
        }
    }

    /** No tokenizer file, context length from the file. */
    public static LoadOptions defaults() {
        return new LoadOptions(null, 0);
    }
}
