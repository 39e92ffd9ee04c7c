package dev.icecache.model.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Resolves files under the shared models folder (system property {@code icecache.models.dir},
 * set by surefire). A missing file fails the test when {@code CI=true} and skips it elsewhere.
 */
public final class SharedModels {

    private SharedModels() {
    }

    /** The file at {@code relative} under the models folder, e.g. {@code stories260K/tok512.bin}. */
    public static Path require(String relative) {
        String dir = System.getProperty("icecache.models.dir", "../shared/models");
        Path file = Path.of(dir).resolve(relative);
        if (!Files.isRegularFile(file)) {
            String message = "shared model file " + file + " is missing; put ../shared/models beside the checkout";
            if ("true".equals(System.getenv("CI"))) {
                Assertions.fail(message);
            }
            Assumptions.abort(message);
        }
        return file;
    }
}
