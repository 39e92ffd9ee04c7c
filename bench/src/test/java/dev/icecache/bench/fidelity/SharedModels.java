package dev.icecache.bench.fidelity;

import java.nio.file.Path;

import dev.icecache.model.TestModels;

/**
 * Files of the shared models dir (system property {@code icecache.models.dir}, set by surefire):
 * a missing one fails the test when {@code CI=true}, else skips it.
 */
public final class SharedModels {

    /** stories260K as GGUF (its header states context 128; run it with context 512). */
    public static final String STORIES_260K = "stories260K/stories260Ktok512.gguf";
    /** The story text the fidelity table of stories260K uses (bench runs in the module dir). */
    public static final Path STORY = Path.of("../examples/texts/lily-and-the-lost-kite.txt");

    private SharedModels() {
    }

    /** The path of {@code relative} under the models dir, or a skip/failure when it is missing. */
    public static Path require(String relative) {
        return TestModels.require(relative);
    }
}
