package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

import dev.icecache.operators.config.IceCacheOptions;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** Conventions every sub-command keeps: defaults in --help, examples, exit code 2 with a hint. */
class CliConventionsTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = IceCacheCli.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(out, true));
        return cli.execute(args);
    }

    private static List<String> commands() {
        List<String> names = new ArrayList<>(IceCacheCli.commandLine().getSubcommands().keySet());
        names.remove("help");
        return names;
    }

    @Test
    void shouldShowADefaultForEveryOptionInEveryHelp() {
        for (String name : commands()) {
            StringWriter help = new StringWriter();
            CommandLine sub = IceCacheCli.commandLine().getSubcommands().get(name);
            sub.usage(new PrintWriter(help, true));
            for (OptionSpec o : sub.getCommandSpec().options()) {
                if (o.usageHelp() || o.versionHelp()) {
                    continue;
                }
                String text = String.join(" ", o.description());
                assertTrue(o.required() ? text.contains("required") : text.contains("default"),
                        name + " " + o.longestName() + ": " + text);
                assertFalse(text.contains("${"), name + " " + o.longestName() + " has an unexpanded variable: " + text);
            }
            assertTrue(help.toString().contains("Examples:"), name + " --help has no examples:\n" + help);
        }
    }

    @Test
    void shouldExitWithTwoAndAHintOnAnUnknownOption() {
        for (String name : commands()) {
            err.getBuffer().setLength(0);
            assertEquals(2, run(name, "--no-such-option"), name + ": " + err);
            String first = err.toString().lines().findFirst().orElse("");
            assertTrue(first.startsWith("icecache: ") && first.endsWith("(see: icecache " + name + " --help)"),
                    name + ": " + err);
        }
    }

    @Test
    void shouldSuggestTheNearestOptionOnATypo() {
        assertEquals(2, run("generate", "--model", "m.gguf", "--max-token", "5"));
        assertTrue(err.toString().contains("--max-tokens"), err.toString());
    }

    @Test
    void shouldExitWithTwoNamingTheOptionOnABadValue() {
        assertEquals(2, run("generate", "--model", "m.gguf", "--max-tokens", "many"));
        assertTrue(err.toString().contains("--max-tokens") && err.toString().contains("many"), err.toString());
        assertTrue(err.toString().contains("(see: icecache generate --help)"), err.toString());
    }

    @Test
    void shouldExitWithTwoAndAHintWithoutASubCommand() {
        assertEquals(2, run());
        assertTrue(err.toString().contains("--help"), err.toString());
    }

    @Test
    void shouldStateTheSameDefaultsInSummarizeHelpAsTheJobOptions() {
        CommandLine sub = IceCacheCli.commandLine().getSubcommands().get("summarize");
        assertDefault(sub, "--budget", IceCacheOptions.BUDGET_TOKENS.defaultValue());
        assertDefault(sub, "--max-tokens", IceCacheOptions.MAX_TOKENS.defaultValue());
        assertDefault(sub, "--temperature", IceCacheOptions.TEMPERATURE.defaultValue());
        assertDefault(sub, "--top-p", IceCacheOptions.TOP_P.defaultValue());
        assertDefault(sub, "--seed", IceCacheOptions.SEED.defaultValue());
        assertDefault(sub, "--chunk-chars", IceCacheOptions.CHUNK_CHARS.defaultValue());
        assertDefault(sub, "--policy", IceCacheOptions.POLICY.defaultValue());
        assertDefault(sub, "--rolling-every", IceCacheOptions.ROLLING_EVERY.defaultValue());
    }

    private static void assertDefault(CommandLine cli, String option, Object value) {
        String text = String.join(" ", cli.getCommandSpec().findOption(option).description());
        assertTrue(text.contains("(default: " + value + ")"), option + " says '" + text + "', the job's default is " + value);
    }
}
