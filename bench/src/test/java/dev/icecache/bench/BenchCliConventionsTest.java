package dev.icecache.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** Issue 7's CLI rules for every {@code bench} sub-command: defaults in --help, exit 2 with a hint. */
class BenchCliConventionsTest {

    private static List<String> commands() {
        List<String> names = new ArrayList<>(BenchCli.commandLine().getSubcommands().keySet());
        names.remove("help");
        return names;
    }

    @Test
    void shouldShowADefaultOrRequiredForEveryOptionInEveryHelp() {
        List<String> missing = new ArrayList<>();
        for (String name : commands()) {
            CommandLine sub = BenchCli.commandLine().getSubcommands().get(name);
            StringWriter help = new StringWriter();
            sub.usage(new PrintWriter(help, true));
            for (OptionSpec o : sub.getCommandSpec().options()) {
                if (o.usageHelp() || o.versionHelp()) {
                    continue;
                }
                String text = String.join(" ", o.description());
                boolean told = o.required() || text.contains("default") || text.contains("${");
                if (!told || text.contains("${")) {
                    missing.add(name + " " + o.longestName() + ": " + text);
                }
            }
        }
        assertTrue(missing.isEmpty(), "options whose help gives no default:\n" + String.join("\n", missing));
    }

    @Test
    void shouldExitWithTwoAndAHintOnAnUnknownOption() {
        for (String name : commands()) {
            StringWriter err = new StringWriter();
            CommandLine cli = BenchCli.commandLine();
            cli.setErr(new PrintWriter(err, true));
            cli.setOut(new PrintWriter(new StringWriter(), true));
            assertEquals(2, cli.execute(name, "--no-such-option"), name + ": " + err);
            String first = err.toString().lines().findFirst().orElse("");
            assertTrue(first.startsWith("icecache: ") && first.endsWith("(see: icecache bench " + name + " --help)"),
                    name + ": " + err);
        }
    }
}
