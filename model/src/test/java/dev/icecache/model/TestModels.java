package dev.icecache.model;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Finds the shared models (system property {@code icecache.models.dir}, set by surefire). A
 * missing file fails the test when the environment says {@code CI=true} and skips it elsewhere.
 */
public final class TestModels {

    private TestModels() {
    }

    /** The path of {@code relative} under the models dir, or a skip/failure when it is missing. */
    public static Path require(String relative) {
        String dir = System.getProperty("icecache.models.dir", "../../shared/models");
        Path p = Path.of(dir).resolve(relative);
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
