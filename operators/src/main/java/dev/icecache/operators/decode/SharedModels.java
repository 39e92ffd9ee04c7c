package dev.icecache.operators.decode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;

/**
 * Models loaded once per JVM and shared by every subtask (and every operator) that asks for
 * the same file and context length: the weights are memory-mapped and read-only, so slots of a
 * TaskManager share one copy. Reference-counted; the last {@link #release} drops the model.
 */
public final class SharedModels {

    private record Key(Path file, int contextLength) {
    }

    private static final class Entry {
        final LlamaModel model;
        int users;

        Entry(LlamaModel model) {
            this.model = model;
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
    public static synchronized LlamaModel acquire(String file, int contextLength) {
        Key key = new Key(Path.of(file).toAbsolutePath().normalize(), contextLength);
        Entry e = LOADED.get(key);
        if (e == null) {
            try {
                e = new Entry(LlamaModel.load(key.file(), new LoadOptions(null, contextLength)));
            } catch (IOException ex) {
                throw new UncheckedIOException("cannot load model " + key.file() + "; check icecache.model.path", ex);
            }
            LOADED.put(key, e);
        }
        e.users++;
        return e.model;
    }

    /** Gives back a model obtained from {@link #acquire}. */
    public static synchronized void release(String file, int contextLength) {
        Key key = new Key(Path.of(file).toAbsolutePath().normalize(), contextLength);
        Entry e = LOADED.get(key);
        if (e != null && --e.users == 0) {
            LOADED.remove(key);
            e.model.close();
        }
    }
}
