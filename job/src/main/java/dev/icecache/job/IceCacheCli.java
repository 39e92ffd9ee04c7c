package dev.icecache.job;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;

import dev.icecache.operators.config.InvalidOptionException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code icecache} command line (run by {@code bin/icecache}): one sub-command per task.
 * Exit codes: 0 success, 1 bad input (missing or corrupt file, impossible request), 2 bad
 * option or usage.
 */
@Command(name = "icecache", mixinStandardHelpOptions = true, version = "icecache 0.1.0",
        description = "LLM decoding over very long documents with the IceCache KV cache.",
        subcommands = {GenerateCommand.class, SummarizeCommand.class, InspectModelCommand.class,
                dev.icecache.job.inspect.InspectStateCommand.class, dev.icecache.job.kafka.ProduceCommand.class,
                CommandLine.HelpCommand.class},
        footer = "%nBenchmarks (fidelity, compare-llamacpp, speed, index, memory, report) run from the bench"
                + " jar through the same launcher: bin/icecache bench --help")
public final class IceCacheCli implements Runnable {

    /** Exit code for bad input: a missing or corrupt file, or a request the model cannot serve. */
    public static final int EXIT_BAD_INPUT = 1;
    /** Exit code for a bad option value or usage. */
    public static final int EXIT_BAD_OPTION = 2;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing sub-command (try: icecache generate --help)");
    }

    /** The configured command line, shared by {@link #main} and tests. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new IceCacheCli());
        cli.setExecutionExceptionHandler(IceCacheCli::handleFailure);
        cli.setParameterExceptionHandler(IceCacheCli::handleBadOption);
        return cli;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** A bad option or usage: one line naming it and where help is, exit code 2. */
    private static int handleBadOption(CommandLine.ParameterException e, String[] args) {
        CommandLine cli = e.getCommandLine();
        PrintWriter err = cli.getErr();
        err.println("icecache: " + e.getMessage() + " (see: " + cli.getCommandSpec().qualifiedName() + " --help)");
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.flush();
        return cli.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** Bad option values exit with 2, other user errors with 1, each as one line on stderr; bugs keep their stack trace. */
    private static int handleFailure(Exception e, CommandLine cli, CommandLine.ParseResult parsed) throws Exception {
        PrintWriter err = cli.getErr();
        if (e instanceof InvalidOptionException badOption) {
            err.println("icecache: " + badOption.getMessage() + " (see: " + cli.getCommandSpec().qualifiedName()
                    + " --help)");
            err.flush();
            return EXIT_BAD_OPTION;
        }
        if (e instanceof NoSuchFileException missing) {
            err.println("icecache: file not found: " + missing.getFile());
        } else if (e instanceof IOException || e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
            err.println("icecache: " + e.getMessage());
        } else {
            throw e;
        }
        err.flush();
        return EXIT_BAD_INPUT;
    }
}
