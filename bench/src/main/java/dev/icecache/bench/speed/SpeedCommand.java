package dev.icecache.bench.speed;

import dev.icecache.bench.llamacpp.LlamaCppContextBenchmark;
import dev.icecache.bench.plot.ProgressBar;
import dev.icecache.bench.plot.ResultTable;
import dev.icecache.bench.plot.RunInfo;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import dev.icecache.bench.SweepOptions;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench speed}: per-token decode latency against context length for each policy, split
 * into index / moves / attention / append / model, beside llama.cpp where its prefill is
 * feasible, with the machine's measured memory bandwidth (issue 5 "Long-context speed").
 */
@Command(name = "speed", mixinStandardHelpOptions = true,
        description = "Decode latency against context length per policy (synthetic K/V context), beside llama.cpp.")
public final class SpeedCommand implements Callable<Integer> {

    @Mixin
    SweepOptions sweep;

    @Option(names = "--model", required = true, description = "GGUF model (e.g. a RandomModels 1B-shape Q8_0 file)")
    Path model;

    @Option(names = "--contexts", split = ",", defaultValue = "1024,4096,16384,65536",
            description = "context lengths (default ${DEFAULT-VALUE})")
    int[] contexts;

    @Option(names = "--steps", defaultValue = "5", description = "measured decode steps per point (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--warmup", defaultValue = "2", description = "unmeasured steps first (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--llamacpp-contexts", split = ",", defaultValue = "1024",
            description = "contexts at which llama.cpp prefills a prompt once and times decode steps, ascending"
                    + " (default ${DEFAULT-VALUE}; 0 = none); longer contexts are extrapolated from a line fit")
    int[] llamaContexts;

    @Option(names = "--llamacpp-steps", defaultValue = "8",
            description = "llama.cpp decode steps timed after each prefill, >= 5 (default ${DEFAULT-VALUE})")
    int llamaSteps;

    @Option(names = "--llamacpp-max-prefill-minutes", defaultValue = "15",
            description = "skip a llama.cpp context whose prefill, estimated from the previous one, would take longer"
                    + " (default ${DEFAULT-VALUE})")
    double llamaMaxPrefillMinutes;

    @Override
    public Integer call() throws Exception {
        int threadCount = sweep.threadCount();
        if (contexts.length == 0 || sweep.policies().length == 0 || steps < 1 || warmup < 0 || threadCount < 1) {
            throw new IllegalArgumentException("need at least one context and policy, --steps >= 1, --warmup >= 0, --threads >= 1");
        }
        if (llamaSteps < 5) {
            throw new IllegalArgumentException("--llamacpp-steps=" + llamaSteps + " must be >= 5 (a median of at least 5 steps)");
        }
        System.setProperty("icecache.threads", String.valueOf(threadCount));
        RunInfo info = RunInfo.now();
        System.err.println("measuring memory bandwidth (triad, " + threadCount + " threads)...");
        double bandwidth = MemoryBandwidth.triad(threadCount, 32 << 20, 5);
        int maxContext = 0;
        for (int c : contexts) {
            maxContext = Math.max(maxContext, c);
        }
        List<LongContextSpeed.Point> points = new ArrayList<>();
        try (LlamaModel llama = LlamaModel.load(model, new LoadOptions(null, maxContext + warmup + steps + 16))) {
            LongContextSpeed speed = new LongContextSpeed(llama, sweep.budget(), sweep.seed());
            ProgressBar bar = ProgressBar.stderr(contexts.length * sweep.policies().length);
            for (int context : contexts) {
                for (Policy policy : sweep.policies()) {
                    String label = policy + " " + context;
                    bar.show(label + " filling");
                    points.add(speed.measure(context, policy, warmup, steps,
                            filled -> bar.show(label + " filled " + filled)));
                    bar.step(label);
                    System.gc(); // let the next fill start from a clean heap rather than on top of this cache
                }
            }
        }
        List<String> llamaNotes = new ArrayList<>();
        List<LlamaCppContextBenchmark.Result> llama = measureLlamaCpp(threadCount, llamaNotes);
        SpeedReport report = new SpeedReport(points, llama, llamaNotes, bandwidth, Files.size(model));
        report.writeCsv(sweep.out().resolve("speed.csv"));
        report.writePlots(sweep.out());
        String section = report.markdown(command(threadCount), info, threadCount);
        System.out.print(section);
        sweep.appendMarkdown(section);
        return 0;
    }

    /**
     * llama.cpp at each of --llamacpp-contexts: prefill once, time the decode steps. A context is
     * skipped, with a note, when its prefill estimated from the measured ones exceeds
     * --llamacpp-max-prefill-minutes (see {@link #estimatePrefillSeconds}).
     */
    private List<LlamaCppContextBenchmark.Result> measureLlamaCpp(int threadCount, List<String> notes) throws Exception {
        List<LlamaCppContextBenchmark.Result> rows = new ArrayList<>();
        for (int context : llamaContexts) {
            if (context <= 0) {
                continue;
            }
            if (!rows.isEmpty()) {
                LlamaCppContextBenchmark.Result last = rows.get(rows.size() - 1);
                double estimate = estimatePrefillSeconds(rows, context);
                if (estimate > 60 * llamaMaxPrefillMinutes) {
                    notes.add(String.format(Locale.ROOT, "llama.cpp at %d skipped: its prefill would take about %.0f s"
                            + " (from %.0f s at %d), over --llamacpp-max-prefill-minutes %s", context, estimate,
                            last.prefillSeconds(), last.context(), ResultTable.num(llamaMaxPrefillMinutes)));
                    System.err.println(notes.get(notes.size() - 1));
                    continue;
                }
            }
            System.err.println("llama.cpp: prefilling about " + context + " tokens once, then " + llamaSteps + " decode steps...");
            LlamaCppContextBenchmark.Result r = LlamaCppContextBenchmark.measure(model, LlamaCppPrompt.ofWords(context),
                    context, llamaSteps, threadCount);
            System.err.printf(Locale.ROOT, "llama.cpp at %d: prefill %.1f s, median step %.1f ms%n", context,
                    r.prefillSeconds(), r.medianStepMs());
            rows.add(r);
        }
        return rows;
    }

    /**
     * The prefill time at {@code context} extrapolated as a power law through the last two measured
     * contexts (exponent at least 1), or quadratically from a single one. NOTE: not linear: on this
     * machine llama.cpp's CPU prefill grew 5.4x from 1k to 4k and 11x from 4k to 16k (attention
     * over the prompt outgrows the weights), so a linear estimate said 5 minutes for 16k where it
     * took 11.
     */
    static double estimatePrefillSeconds(List<LlamaCppContextBenchmark.Result> measured, int context) {
        LlamaCppContextBenchmark.Result last = measured.get(measured.size() - 1);
        double exponent = 2;
        if (measured.size() >= 2) {
            LlamaCppContextBenchmark.Result before = measured.get(measured.size() - 2);
            exponent = Math.max(1, Math.log(last.prefillSeconds() / before.prefillSeconds())
                    / Math.log((double) last.context() / before.context()));
        }
        return last.prefillSeconds() * Math.pow((double) context / last.context(), exponent);
    }

    private String command(int threadCount) {
        StringBuilder sb = new StringBuilder("bin/icecache bench speed --model ").append(model).append(" --contexts ");
        for (int i = 0; i < contexts.length; i++) {
            sb.append(i == 0 ? "" : ",").append(contexts[i]);
        }
        sb.append(" --policies ");
        for (int i = 0; i < sweep.policies().length; i++) {
            sb.append(i == 0 ? "" : ",").append(sweep.policies()[i]);
        }
        sb.append(String.format(Locale.ROOT, " --budget %d --steps %d --warmup %d --threads %d --llamacpp-contexts ",
                sweep.budget(), steps, warmup, threadCount));
        for (int i = 0; i < llamaContexts.length; i++) {
            sb.append(i == 0 ? "" : ",").append(llamaContexts[i]);
        }
        sb.append(" --llamacpp-steps ").append(llamaSteps);
        return sb.toString();
    }
}
