package dev.icecache.model;

import java.io.IOException;

/**
 * A model file is corrupt, truncated or of a kind this engine does not read. The message is
 * one line naming the file, the field and the problem, e.g. {@code "GGUF tensor
 * 'blk.3.attn_k.weight': offset=… size=… exceeds file size=…; file truncated or corrupt"}.
 * It is an {@link IOException} so that callers of {@link LlamaModel#load} handle every failure to
 * read a model in one place.
 */
public final class ModelFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** A corrupt or unsupported file, described in one line. */
    public ModelFormatException(String message) {
        super(message);
    }

    /** A corrupt or unsupported file, with the low-level failure that revealed it. */
    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
