package dev.icecache.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.util.List;

import picocli.CommandLine;

/**
 * How every IceCache command line reports a user's mistake: one line on stderr that names the
 * problem and where help is, and an exit code that says which kind of mistake it was. Bugs
 * are not user mistakes: they keep their stack trace.
 *
 * <ul>
 *   <li>{@value #EXIT_BAD_INPUT}: bad input — a missing or corrupt file, a request the model cannot serve;</li>
 *   <li>{@value #EXIT_BAD_OPTION}: a bad option, option value or usage.</li>
 * </ul>
 */
public final class CommandLineErrors {

    /** Exit code for bad input: a missing or corrupt file, or a request the model cannot serve. */
    public static final int EXIT_BAD_INPUT = 1;
    /** Exit code for a bad option value or usage. */
    public static final int EXIT_BAD_OPTION = 2;

    private final List<Class<? extends Exception>> badOptionTypes;

    private CommandLineErrors(List<Class<? extends Exception>> badOptionTypes) {
        this.badOptionTypes = List.copyOf(badOptionTypes);
    }

    /**
     * Installs the handlers on {@code cli} and returns it.
     *
     * @param badOptionTypes exceptions thrown while running a command that mean an option's
     *                       value was wrong (exit {@value #EXIT_BAD_OPTION}, like a parse error)
     */
    @SafeVarargs
    public static CommandLine install(CommandLine cli, Class<? extends Exception>... badOptionTypes) {
        CommandLineErrors errors = new CommandLineErrors(List.of(badOptionTypes));
        cli.setParameterExceptionHandler(errors::badUsage);
        cli.setExecutionExceptionHandler(errors::failure);
        return cli;
    }

    /** A parse error: the problem, where help is, and picocli's suggestions for a misspelt name. */
    private int badUsage(CommandLine.ParameterException e, String[] args) {
        CommandLine cli = e.getCommandLine();
        PrintWriter err = cli.getErr();
        err.println(lineWithHelp(cli, e.getMessage()));
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.flush();
        return cli.getCommandSpec().exitCodeOnInvalidInput();
    }

    private int failure(Exception e, CommandLine cli, CommandLine.ParseResult parsed) throws Exception {
        PrintWriter err = cli.getErr();
        int code;
        if (badOptionTypes.stream().anyMatch(t -> t.isInstance(e))) {
            err.println(lineWithHelp(cli, e.getMessage()));
            code = EXIT_BAD_OPTION;
        } else if (e instanceof NoSuchFileException missing) {
            err.println("icecache: file not found: " + missing.getFile());
            code = EXIT_BAD_INPUT;
        } else if (e instanceof IOException || e instanceof IllegalArgumentException
                || e instanceof IllegalStateException) {
            err.println("icecache: " + e.getMessage());
            code = EXIT_BAD_INPUT;
        } else {
            throw e;
        }
        err.flush();
        return code;
    }

    private static String lineWithHelp(CommandLine cli, String problem) {
        return "icecache: " + problem + " (see: " + helpCommand(cli) + ")";
    }

    /** {@code icecache bench speed --help}: the qualified name, under the launcher's name. */
    private static String helpCommand(CommandLine cli) {
        String name = cli.getCommandSpec().qualifiedName();
        return (name.startsWith("icecache") ? name : "icecache " + name) + " --help";
    }
}
