package dev.icecache.job;

import dev.icecache.cli.CommandLineErrors;
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
        footer = "%nBenchmarks (fidelity, retrieval, compare-llamacpp, speed, index, memory, report) run from the bench"
                + " jar through the same launcher: bin/icecache bench --help")
public final class IceCacheCli implements Runnable {

    /** Exit code for bad input: a missing or corrupt file, or a request the model cannot serve. */
    public static final int EXIT_BAD_INPUT = CommandLineErrors.EXIT_BAD_INPUT;
    /** Exit code for a bad option value or usage. */
    public static final int EXIT_BAD_OPTION = CommandLineErrors.EXIT_BAD_OPTION;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing sub-command (try: icecache generate --help)");
    }

    /** The configured command line, shared by {@link #main} and tests. */
    public static CommandLine commandLine() {
        return CommandLineErrors.install(new CommandLine(new IceCacheCli()), InvalidOptionException.class);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
