package dev.icecache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Callable;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

class CommandLineErrorsTest {

    /** What a command's option value can be wrong with, found only while it runs. */
    static final class WrongValue extends RuntimeException {
        WrongValue(String message) {
            super(message);
        }
    }

    @Command(name = "icecache", subcommands = Fail.class)
    static final class Root implements Runnable {
        @Override
        public void run() {
        }
    }

    @Command(name = "fail")
    static final class Fail implements Callable<Integer> {
        @Option(names = "--with", required = true)
        String with;
        @Option(names = "--count")
        int count;

        @Override
        public Integer call() throws Exception {
            switch (with) {
                case "missing" -> throw new NoSuchFileException("/nowhere/model.gguf");
                case "io" -> throw new IOException("model.gguf: bad magic 0x00000000; is this a GGUF file?");
                case "value" -> throw new WrongValue("--count=3 must be even");
                case "bug" -> throw new ArithmeticException("/ by zero");
                default -> {
                    return 0;
                }
            }
        }
    }

    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = CommandLineErrors.install(new CommandLine(new Root()), WrongValue.class);
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    private String errLine() {
        String[] lines = err.toString().split("\\R");
        assertEquals(1, lines.length, err.toString());
        return lines[0];
    }

    @Test
    void shouldExitWithTwoAndNameTheHelpOfTheSubCommandOnAParseError() {
        assertEquals(CommandLineErrors.EXIT_BAD_OPTION, run("fail", "--with", "x", "--count", "many"));
        assertEquals("icecache: Invalid value for option '--count': 'many' is not an int (see: icecache fail --help)",
                errLine());
    }

    @Test
    void shouldSuggestTheNearestSubCommandForAMisspeltOne() {
        assertEquals(CommandLineErrors.EXIT_BAD_OPTION, run("fail", "--with", "x", "--coun=1"));
        String text = err.toString();
        assertTrue(text.startsWith("icecache: Unknown option: '--coun=1' (see: icecache fail --help)"), text);
        assertTrue(text.contains("--count"), text);
    }

    @Test
    void shouldExitWithTwoForAValueRejectedWhileRunning() {
        assertEquals(CommandLineErrors.EXIT_BAD_OPTION, run("fail", "--with", "value"));
        assertEquals("icecache: --count=3 must be even (see: icecache fail --help)", errLine());
    }

    @Test
    void shouldExitWithOneAndNameTheMissingFile() {
        assertEquals(CommandLineErrors.EXIT_BAD_INPUT, run("fail", "--with", "missing"));
        assertEquals("icecache: file not found: /nowhere/model.gguf", errLine());
    }

    @Test
    void shouldExitWithOneForBadInputWithoutAStackTrace() {
        assertEquals(CommandLineErrors.EXIT_BAD_INPUT, run("fail", "--with", "io"));
        assertEquals("icecache: model.gguf: bad magic 0x00000000; is this a GGUF file?", errLine());
    }

    @Test
    void shouldKeepTheStackTraceOfABug() {
        // A bug is not a user's mistake: the handler rethrows it, picocli prints its trace and exits 1.
        StringWriter trace = new StringWriter();
        CommandLine cli = CommandLineErrors.install(new CommandLine(new Root()), WrongValue.class);
        cli.setErr(new PrintWriter(trace, true));
        assertEquals(1, cli.execute("fail", "--with", "bug"));
        assertTrue(trace.toString().contains("java.lang.ArithmeticException: / by zero"), trace.toString());
        assertTrue(trace.toString().contains("\tat "), "a bug keeps its stack trace: " + trace);
    }
}
