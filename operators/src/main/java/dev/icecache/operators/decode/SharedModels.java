package dev.icecache.operators.decode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.tokenizer.Tokenizer;
import dev.icecache.model.tokenizer.Tokenizers;

/**
 * Models loaded once per JVM and shared by every subtask (and every operator) that asks for
 * the same file and context length: the weights are memory-mapped and read-only, so slots of a
 * TaskManager share one copy. Reference-counted; the last {@link #release} drops the model.
 */
public final class SharedModels {

    private record Key(Path file, int contextLength) {
    }

    /**
     * A shared model and its tokenizer (built once from the model's vocabulary).
     *
     * @param model the engine's model
     * @param tokenizer the tokenizer of its vocabulary
     */
    public record Shared(LlamaModel model, Tokenizer tokenizer) {
    }

    private static final class Entry {
        final Shared shared;
        int users;

        Entry(Shared shared) {
            this.shared = shared;
        }
    }

    private static final Map<Key, Entry> LOADED = new HashMap<>();

    private SharedModels() {
    }

    /**
     * The model of {@code file} at {@code contextLength} (0 = the file's), loading it on first use.
     *
     * @throws UncheckedIOException when the file cannot be read
     */
    public static synchronized Shared acquire(String file, int contextLength) {
        Key key = new Key(Path.of(file).toAbsolutePath().normalize(), contextLength);
        Entry e = LOADED.get(key);
        if (e == null) {
            try {
                LlamaModel model = LlamaModel.load(key.file(), new LoadOptions(null, contextLength));
                if (model.vocabulary() == null) {
                    throw new IllegalArgumentException("model " + key.file() + " has no vocabulary; for a llama2.c"
                            + " .bin model put its tokenizer.bin beside it");
                }
                e = new Entry(new Shared(model, Tokenizers.create(model.vocabulary())));
            } catch (IOException ex) {
                throw new UncheckedIOException("cannot load model " + key.file() + "; check icecache.model.path", ex);
            }
            LOADED.put(key, e);
        }
        e.users++;
        return e.shared;
    }

    /** Gives back a model obtained from {@link #acquire}. */
    public static synchronized void release(String file, int contextLength) {
        Key key = new Key(Path.of(file).toAbsolutePath().normalize(), contextLength);
        Entry e = LOADED.get(key);
        if (e != null && --e.users == 0) {
            LOADED.remove(key);
            e.shared.model().close();
        }
    }
}
