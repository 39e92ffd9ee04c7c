package dev.icecache.operators.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import dev.icecache.operators.decode.OverflowMode;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Every option is checked when the job is built, and a bad one is named with its value and allowed range. */
class DecoderSettingsValidationTest {

    @TempDir
    Path dir;
    private Path model;

    @BeforeEach
    void model() throws IOException {
        model = Files.writeString(dir.resolve("model.gguf"), "options are checked before the model is read");
    }

    private InvalidOptionException rejected(Map<String, String> options) {
        Configuration c = Configuration.fromMap(options);
        if (!options.containsKey(IceCacheOptions.MODEL_PATH.key())) {
            c.set(IceCacheOptions.MODEL_PATH, model.toString());
        }
        InvalidOptionException e = assertThrows(InvalidOptionException.class, () -> DecoderSettings.from(c));
        assertEquals(-1, e.getMessage().indexOf('\n'), "one line: " + e.getMessage());
        return e;
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
        "icecache.budget.tokens|70|a multiple of the page size 16, at least 64",
        "icecache.budget.tokens|48|a multiple of the page size 16, at least 64",
        "icecache.budget.tokens|-64|a multiple of the page size 16, at least 64",
        "icecache.model.context|-1|0 (the model file's) or a length in [1, 16777216]",
        "icecache.chunk.chars|-5|an integer >= 16",
        "icecache.chunk.chars|8|an integer >= 16",
        "icecache.generate.max-tokens|-1|an integer >= 0",
        "icecache.generate.temperature|-0.5|a finite number >= 0",
        "icecache.generate.top-p|1.5|a number in (0, 1]",
        "icecache.generate.top-p|0.0|a number in (0, 1]",
        "icecache.decode.slice-tokens|0|an integer >= 1",
        "icecache.cache.dense-layers|-2|an integer >= 0",
        "icecache.working-set.documents|0|an integer >= 1",
        "icecache.cache.policy|LRU|one of [FULL, STREAMING, QUEST, ORACLE, ICECACHE, ICECACHE_REUSE]",
        "icecache.page.format|F8|one of [F32, BF16]",
        "icecache.budget.tokens|lots|a value of type Integer",
        "icecache.prompt|{document} and {document}|text with '{document}' at most once",
        "icecache.document.idle-timeout|-5 s|a duration >= 0",
        "icecache.document.idle-timeout|soon|a duration >= 0",
        "icecache.summary.rolling-every|-1|0 (off) or an integer >= 64",
        "icecache.summary.rolling-every|63|0 (off) or an integer >= 64",
        "icecache.summary.rolling-max-tokens|0|an integer >= 1",
        "icecache.summary.overflow|truncate|one of reject, refine, map-reduce",
        "icecache.summary.segment-tokens|-1|0 (derived from the context) or an integer >= 1",
        "icecache.memory.budget|lots|a memory size >= 0 such as '512 mb' or '2 gb'",
        "icecache.memory.budget|-1 gb|a memory size >= 0 such as '512 mb' or '2 gb'",
    })
    void shouldNameTheOptionItsValueAndTheAllowedRange(String key, String value, String allowed) {
        InvalidOptionException e = rejected(Map.of(key, value));
        assertEquals(key, e.option());
        assertTrue(e.getMessage().startsWith(key + "=" + value + " is invalid; allowed: "), e.getMessage());
        assertTrue(e.getMessage().contains(allowed), e.getMessage());
    }

    @Test
    void shouldNameTheModelOptionWhenItIsMissing() {
        Configuration c = new Configuration();
        InvalidOptionException e = assertThrows(InvalidOptionException.class, () -> DecoderSettings.from(c));
        assertTrue(e.getMessage().startsWith("icecache.model.path is not set; allowed: "), e.getMessage());
    }

    @Test
    void shouldNameTheModelOptionWhenTheFileDoesNotExist() {
        String missing = dir.resolve("nope.gguf").toString();
        InvalidOptionException e = rejected(Map.of(IceCacheOptions.MODEL_PATH.key(), missing));
        assertTrue(e.getMessage().startsWith("icecache.model.path=" + missing + " is invalid"), e.getMessage());
    }

    @Test
    void shouldAcceptTheDefaults() {
        Configuration c = new Configuration();
        c.set(IceCacheOptions.MODEL_PATH, model.toString());
        DecoderSettings s = DecoderSettings.from(c);
        assertEquals(256, s.budgetTokens());
        assertEquals(4096, s.chunkChars());
        assertEquals(java.time.Duration.ZERO, s.documentIdleTimeout(), "no idle timeout unless asked");
    }

    @Test
    void shouldReadTheIdleTimeout() {
        Configuration c = new Configuration();
        c.set(IceCacheOptions.MODEL_PATH, model.toString());
        c.setString(IceCacheOptions.DOCUMENT_IDLE_TIMEOUT.key(), "90 s");
        assertEquals(java.time.Duration.ofSeconds(90), DecoderSettings.from(c).documentIdleTimeout());
    }

    @Test
    void shouldRefuseRollingSummariesWhenThePromptHasNoInstructionAfterTheDocument() {
        InvalidOptionException e = rejected(Map.of(IceCacheOptions.ROLLING_EVERY.key(), "512",
                IceCacheOptions.PROMPT.key(), "Summarize this: {document}"));
        assertEquals(IceCacheOptions.PROMPT.key(), e.option());
        assertTrue(e.getMessage().contains("with icecache.summary.rolling-every > 0, a template with an instruction"
                + " after '{document}'"), e.getMessage());
    }

    @Test
    void shouldReadTheOverflowModeIntoTheGenerationSettings() {
        Configuration c = new Configuration();
        c.set(IceCacheOptions.MODEL_PATH, model.toString());
        assertEquals(OverflowMode.REFINE, DecoderSettings.from(c).generation().overflow(), "refine by default");
        assertEquals(0, DecoderSettings.from(c).generation().segmentTokens(), "derived by default");
        c.set(IceCacheOptions.OVERFLOW, "Map-Reduce");
        c.set(IceCacheOptions.SEGMENT_TOKENS, 300);
        assertEquals(OverflowMode.MAP_REDUCE, DecoderSettings.from(c).generation().overflow());
        assertEquals(300, DecoderSettings.from(c).generation().segmentTokens());
        c.set(IceCacheOptions.OVERFLOW, "reject");
        assertEquals(OverflowMode.REJECT, DecoderSettings.from(c).generation().overflow());
    }

    @Test
    void shouldReadRollingSummariesIntoTheGenerationSettings() {
        Configuration c = new Configuration();
        c.set(IceCacheOptions.MODEL_PATH, model.toString());
        assertFalse(DecoderSettings.from(c).generation().rolling(), "off by default");
        c.set(IceCacheOptions.ROLLING_EVERY, 64);
        c.set(IceCacheOptions.ROLLING_MAX_TOKENS, 9);
        DecoderSettings s = DecoderSettings.from(c);
        assertEquals(64, s.generation().rollingEvery());
        assertEquals(9, s.generation().rollingMaxTokens());
    }
}
