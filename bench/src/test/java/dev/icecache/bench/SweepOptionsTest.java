package dev.icecache.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;

import dev.icecache.kvcache.policy.Policy;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** {@code bench document} and {@code bench speed} take the shared options from one mixin. */
class SweepOptionsTest {

    private static final List<String> SHARED = List.of("--policies", "--budget", "--threads", "--seed", "--out",
            "--markdown");

    @Test
    void shouldGiveDocumentAndSpeedTheSameOptionsWithTheSameDefaults() {
        for (String name : SHARED) {
            OptionSpec document = option("document", name);
            OptionSpec speed = option("speed", name);
            assertEquals(document.defaultValue(), speed.defaultValue(), name);
            assertEquals(List.of(document.description()), List.of(speed.description()), name);
        }
        assertEquals("FULL,QUEST,ICECACHE,ICECACHE_REUSE", option("speed", "--policies").defaultValue());
        assertEquals("256", option("document", "--budget").defaultValue());
        assertEquals("1", option("document", "--seed").defaultValue());
        assertEquals("bench/results", option("speed", "--out").defaultValue());
    }

    @Test
    void shouldParseTheSharedOptionsIntoTheMixin() {
        SweepOptions given = parse("--policies", "QUEST,ICECACHE", "--budget", "128", "--threads", "3", "--seed", "7",
                "--out", "/tmp/r", "--markdown", "B.md");
        assertArrayEquals(new Policy[] {Policy.QUEST, Policy.ICECACHE}, given.policies());
        assertEquals(128, given.budget());
        assertEquals(3, given.threadCount());
        assertEquals(7, given.seed());
        assertEquals(Path.of("/tmp/r"), given.out());

        SweepOptions defaults = parse();
        assertEquals(4, defaults.policies().length);
        assertEquals(256, defaults.budget());
        assertEquals(Runtime.getRuntime().availableProcessors(), defaults.threadCount());
        assertEquals(1, defaults.seed());
        assertEquals(Path.of("bench/results"), defaults.out());
    }

    private static OptionSpec option(String command, String name) {
        return BenchCli.commandLine().getSubcommands().get(command).getCommandSpec().findOption(name);
    }

    private static SweepOptions parse(String... args) {
        SweepOptions options = new SweepOptions();
        new CommandLine(options).parseArgs(args);
        return options;
    }
}
