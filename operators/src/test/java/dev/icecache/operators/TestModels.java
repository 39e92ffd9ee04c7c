package dev.icecache.operators;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The shared models (system property {@code icecache.models.dir}, set by surefire). A missing
 * file fails the test when {@code CI=true} and skips it elsewhere.
 */
public final class TestModels {

    /** stories260K in GGUF, relative to the models dir. */
    public static final String STORIES_GGUF = "stories260K/stories260Ktok512.gguf";

    /** The context stories260K was trained at (its GGUF header says 128, wrongly). */
    public static final int STORIES_CONTEXT = 512;

    private TestModels() {
    }

    /** The path of {@code relative} under the models dir, or a skip/failure when it is missing. */
    public static Path require(String relative) {
        return dev.icecache.model.TestModels.require(relative);
    }

    /** Space-separated ints of a reference file. */
    public static int[] readIds(Path file) throws IOException {
        return dev.icecache.model.TestModels.readIds(file);
    }
}
