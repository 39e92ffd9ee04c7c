package dev.icecache.bench;

import dev.icecache.bench.llamacpp.CompareLlamaCppCommand;
import dev.icecache.bench.index.IndexCommand;
import dev.icecache.bench.memory.MemoryCommand;
import dev.icecache.bench.speed.SpeedCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code bin/icecache bench ...}: the benchmarks, one sub-command each. A thin dispatcher;
 * every benchmark lives in its own package.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Fidelity, speed and memory benchmarks of IceCache-Flink.",
        subcommands = {CompareLlamaCppCommand.class,
                SpeedCommand.class,
                IndexCommand.class,
                MemoryCommand.class,
                CommandLine.HelpCommand.class})
public final class BenchCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a benchmark; see 'bench help'");
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchCli()).execute(args));
    }
}
