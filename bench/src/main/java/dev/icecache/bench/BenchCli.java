package dev.icecache.bench;

import dev.icecache.bench.fidelity.FidelityCommand;
import dev.icecache.bench.llamacpp.CompareLlamaCppCommand;
import dev.icecache.bench.index.IndexCommand;
import dev.icecache.bench.memory.MemoryCommand;
import dev.icecache.bench.report.ReportCommand;
import dev.icecache.bench.retrieval.RetrievalCommand;
import dev.icecache.bench.speed.SpeedCommand;
import dev.icecache.cli.CommandLineErrors;
import dev.icecache.model.JavaRuntime;
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
                MemoryCommand.class, ReportCommand.class, dev.icecache.bench.document.DocumentCommand.class,
                CommandLine.HelpCommand.class})
public final class BenchCli implements Runnable {

    /** Exit code for bad input: a missing or corrupt file, or a request the model cannot serve. */
    public static final int EXIT_BAD_INPUT = CommandLineErrors.EXIT_BAD_INPUT;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a benchmark; see 'bench help'");
    }

    /** The configured command line, shared by {@link #main} and tests. */
    public static CommandLine commandLine() {
        return CommandLineErrors.install(new CommandLine(new BenchCli()));
    }

    public static void main(String[] args) {
        // a benchmark's figures are bimodal without the launcher's JIT flag: say so before they are taken
        JavaRuntime.jitWarning().ifPresent(w -> System.err.println("bench: warning: " + w));
        System.exit(commandLine().execute(args));
    }
}
