package dev.icecache.bench.report;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench report}: BENCHMARKS.md and the plots as one HTML page. */
@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Render BENCHMARKS.md and the PNG plots under bench/results/ into one HTML page.",
        footer = {"", "Examples:",
            "  bin/icecache bench report                      (from the repository root)",
            "  bin/icecache bench report --output /tmp/report.html && xdg-open /tmp/report.html"})
public final class ReportCommand implements Callable<Integer> {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Option(names = "--benchmarks", defaultValue = "BENCHMARKS.md", paramLabel = "FILE",
            description = "The Markdown with the figures (default: ${DEFAULT-VALUE}).")
    Path benchmarks;

    @Option(names = "--results", defaultValue = "bench/results", paramLabel = "DIR",
            description = "Folder searched for *.png plots (default: ${DEFAULT-VALUE}).")
    Path results;

    @Option(names = "--output", paramLabel = "FILE",
            description = "The HTML page to write (default: report.html in the --results folder).")
    Path output;

    @Override
    public Integer call() throws Exception {
        Path page = output != null ? output : results.resolve("report.html");
        int images = BenchReport.write(benchmarks, results, page);
        spec.commandLine().getOut().printf("wrote %s (%d plots)%n", page, images);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
