package dev.icecache.operators;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

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
        Path p = Path.of(System.getProperty("icecache.models.dir", "../../shared/models")).resolve(relative);
        if (!Files.isRegularFile(p)) {
            String msg = "model file " + p + " is missing (set -Dicecache.models.dir)";
            if ("true".equals(System.getenv("CI"))) {
                fail(msg);
            }
            assumeTrue(false, msg);
        }
        return p;
    }

    /** Space-separated ints of a reference file. */
    public static int[] readIds(Path file) throws IOException {
        String text = Files.readString(file).trim();
        return text.isEmpty() ? new int[0] : Arrays.stream(text.split("\\s+")).mapToInt(Integer::parseInt).toArray();
    }
}
