package dev.icecache.bench;

import dev.icecache.bench.fidelity.FidelityCommand;
import dev.icecache.bench.llamacpp.CompareLlamaCppCommand;
import dev.icecache.bench.index.IndexCommand;
import dev.icecache.bench.memory.MemoryCommand;
import dev.icecache.bench.report.ReportCommand;
import dev.icecache.bench.retrieval.RetrievalCommand;
import dev.icecache.bench.speed.SpeedCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code bin/icecache bench ...}: the benchmarks, one sub-command each. A thin dispatcher;
 * every benchmark lives in its own package. Exit codes as {@code icecache}'s: 0 success, 1 bad
 * input (missing or corrupt file, impossible request), 2 bad option or usage.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Fidelity, retrieval, speed and memory benchmarks of IceCache-Flink.",
        subcommands = {FidelityCommand.class, RetrievalCommand.class, CompareLlamaCppCommand.class, SpeedCommand.class, IndexCommand.class,
                MemoryCommand.class, ReportCommand.class,
                CommandLine.HelpCommand.class})
public final class BenchCli implements Runnable {

    /** Exit code for bad input: a missing or corrupt file, or a request the model cannot serve. */
    public static final int EXIT_BAD_INPUT = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a benchmark; see 'bench help'");
    }

    /** The configured command line, shared by {@link #main} and tests. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new BenchCli());
        cli.setExecutionExceptionHandler(BenchCli::handleFailure);
        cli.setParameterExceptionHandler(BenchCli::handleBadOption);
        return cli;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** A bad option or usage: one line naming it and where help is, exit code 2. */
    private static int handleBadOption(CommandLine.ParameterException e, String[] args) {
        CommandLine cli = e.getCommandLine();
        PrintWriter err = cli.getErr();
        err.println("icecache: " + e.getMessage() + " (see: icecache " + cli.getCommandSpec().qualifiedName() + " --help)");
        err.flush();
        return cli.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** User errors become one line on stderr and exit code 1; bugs keep their stack trace. */
    private static int handleFailure(Exception e, CommandLine cli, CommandLine.ParseResult parsed) throws Exception {
        PrintWriter err = cli.getErr();
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
