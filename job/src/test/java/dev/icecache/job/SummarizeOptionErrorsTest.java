package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * Every bad option value on {@code icecache summarize} ends before any job starts: exit code 2
 * and one line on stderr naming the option, the value and what is allowed, no stack trace.
 */
class SummarizeOptionErrorsTest {

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
        "--budget|70|icecache.budget.tokens=70 is invalid; allowed: a multiple of the page size 16",
        "--budget|32|icecache.budget.tokens=32 is invalid; allowed: a multiple of the page size 16, at least 64",
        "--budget|-16|icecache.budget.tokens=-16 is invalid",
        "--context|-1|icecache.model.context=-1 is invalid; allowed: 0 (the model file's) or a length in",
        "--chunk-chars|-3|icecache.chunk.chars=-3 is invalid; allowed: an integer >= 16",
        "--max-tokens|-1|icecache.generate.max-tokens=-1 is invalid; allowed: an integer >= 0",
        "--top-p|2|icecache.generate.top-p=2.0 is invalid; allowed: a number in (0, 1]",
        "--temperature|-1|icecache.generate.temperature=-1.0 is invalid",
        "--conf|icecache.cache.policy=LRU|icecache.cache.policy=LRU is invalid; allowed: one of [FULL,",
        "--conf|icecache.working-set.documents=0|icecache.working-set.documents=0 is invalid; allowed: an integer >= 1",
        "--conf|icecache.cache.dense-layers=-1|icecache.cache.dense-layers=-1 is invalid; allowed: an integer >= 0",
        "--state-backend|memory|--state-backend=memory is invalid; allowed: rocksdb or hashmap",
        "--overflow|truncate|icecache.summary.overflow=truncate is invalid; allowed: one of reject, refine, map-reduce",
        "--segment-tokens|-5|icecache.summary.segment-tokens=-5 is invalid; allowed: 0 (derived from the context)",
    })
    void shouldExitWithCodeTwoAndOneLineNamingTheOption(String flag, String value, String expected)
            throws IOException {
        Path model = Files.writeString(dir.resolve("model.gguf"), "never read: options fail first");
        List<String> args = new ArrayList<>(List.of("summarize", "--input", dir.toString(), "--model",
                model.toString(), flag, value));
        StringWriter err = new StringWriter();
        CommandLine cli = IceCacheCli.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        int code = cli.execute(args.toArray(String[]::new));
        String text = err.toString();
        assertEquals(IceCacheCli.EXIT_BAD_OPTION, code, text);
        assertEquals(1, text.strip().lines().count(), "one line: " + text);
        assertTrue(text.startsWith("icecache: " + expected), text);
        assertFalse(text.contains("\tat ") || text.contains("Exception"), "no stack trace: " + text);
    }
}
