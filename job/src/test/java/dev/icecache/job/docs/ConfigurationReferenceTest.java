package dev.icecache.job.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.icecache.operators.config.IceCacheOptions;
import org.apache.flink.configuration.ConfigOption;
import org.junit.jupiter.api.Test;

/** The committed docs/configuration.md is exactly what the generator writes today. */
class ConfigurationReferenceTest {

    private static final Path PAGE = Path.of(System.getProperty("icecache.docs.dir", "../docs"), "configuration.md");

    @Test
    void shouldMatchTheCommittedPage() throws IOException {
        assertTrue(Files.isRegularFile(PAGE), PAGE + " is missing; generate it as docs/README.md says");
        assertEquals(ConfigurationReference.render(), Files.readString(PAGE, StandardCharsets.UTF_8),
                "docs/configuration.md is stale: IceCacheOptions changed; regenerate it as docs/README.md says");
    }

    @Test
    void shouldListEveryOptionOnce() throws IllegalAccessException {
        String page = ConfigurationReference.render();
        int options = 0;
        for (Field f : IceCacheOptions.class.getFields()) {
            if (f.getType() == ConfigOption.class) {
                options++;
                String key = ((ConfigOption<?>) f.get(null)).key();
                assertEquals(1, page.split("\\| `" + java.util.regex.Pattern.quote(key) + "` \\|", -1).length - 1, key);
            }
        }
        assertEquals(options, ConfigurationReference.entries().size());
        assertTrue(options > 0, "IceCacheOptions declares no options");
    }

    @Test
    void shouldShowEnumConstantsAndDefaults() {
        String page = ConfigurationReference.render();
        assertTrue(page.contains("| `icecache.budget.tokens` | Integer | `" + IceCacheOptions.BUDGET_TOKENS.defaultValue() + "` |"), page);
        assertTrue(page.contains("| `icecache.model.path` | String | (none) |"), page);
        assertTrue(page.contains("| `icecache.page.format` | enum: F32, BF16 | `BF16` |"), page);
    }
}
