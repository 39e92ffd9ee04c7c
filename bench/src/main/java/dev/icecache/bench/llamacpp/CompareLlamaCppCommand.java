package dev.icecache.bench.llamacpp;

import dev.icecache.bench.speed.LlamaCppPrompt;
import dev.icecache.model.synthetic.RandomModels;
import dev.icecache.model.synthetic.WeightTypes;
import dev.icecache.model.tensor.GgmlType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench compare-llamacpp}: decode tokens/s of this engine divided by llama.cpp's on the
 * same GGUF with the same thread count, medians of several runs, and the same for the prefill of
 * a prompt of {@code --prefill-tokens} one-letter words (one token each). With {@code --generate-1b}
 * it first writes a random-weight Q8_0 model of the Llama-3.2-1B shape and measures that.
 */
@Command(name = "compare-llamacpp", mixinStandardHelpOptions = true,
        description = "Decode speed of this engine relative to llama.cpp (java-llama.cpp) on one GGUF.")
public final class CompareLlamaCppCommand implements Callable<Integer> {

    /** The weight types --generate-1b can write: a uniform Q8_0 or Q6_K model, or llama.cpp's Q4_K_M or Q5_K_M mix. */
    enum Quantization {
        Q8_0("1.3"), Q4_K_M("0.8"), Q5_K_M("0.9"), Q6_K("1.0");

        private final String gigabytes;

        Quantization(String gigabytes) {
            this.gigabytes = gigabytes;
        }

        WeightTypes weightTypes() {
            return switch (this) {
                case Q4_K_M -> WeightTypes.q4KM();
                case Q5_K_M -> WeightTypes.q5KM();
                default -> WeightTypes.uniform(GgmlType.valueOf(name()));
            };
        }
    }

    @Option(names = "--model", description = "GGUF model file (default: none; give it or --generate-1b)")
    Path model;

    @Option(names = "--generate-1b", paramLabel = "DIR",
            description = "write (once) a random-weight GGUF of the Llama-3.2-1B shape into DIR and benchmark it (default: none; give it or --model)")
    Path generateDir;

    @Option(names = "--quantization", defaultValue = "Q8_0",
            description = "weight types of the --generate-1b model: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
    Quantization quantization;

    @Option(names = "--context", defaultValue = "512", description = "context length for both engines (default ${DEFAULT-VALUE})")
    int context;

    @Option(names = "--tokens", defaultValue = "64", description = "decode steps per run (default ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--threads", description = "threads for both engines (default: available processors)")
    Integer threads;

    @Option(names = "--runs", defaultValue = "5", description = "measured runs per engine, after one warm-up (default ${DEFAULT-VALUE})")
    int runs;

    @Option(names = "--prompt", defaultValue = "Once upon a time", description = "prompt before decoding (default: ${DEFAULT-VALUE})")
    String prompt;

    @Option(names = "--prefill-tokens", defaultValue = "1024",
            description = "prompt length (one-letter words, one token each) of the prefill comparison; 0 skips it (default ${DEFAULT-VALUE})")
    int prefillTokens;

    @Option(names = "--prefill-runs", defaultValue = "2",
            description = "measured prefills per engine; the engine warms up on a short prefill first, llama.cpp on a short generation (default ${DEFAULT-VALUE})")
    int prefillRuns;

    @Option(names = "--markdown", paramLabel = "FILE", description = "append the result section to FILE, e.g. BENCHMARKS.md (default: none, only the CSV)")
    Path markdown;

    @Override
    public Integer call() throws Exception {
        int threadCount = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        validate(threadCount);
        Path file = model != null ? model : generate1b(generateDir, quantization);
        // the engine's compute pool reads this once, on first use
        System.setProperty("icecache.threads", String.valueOf(threadCount));
        LlamaCppDecodeBenchmark.Result llama = LlamaCppDecodeBenchmark.measure(file, prompt, context, tokens, threadCount, runs);
        DecodeSpeed ours = EngineDecodeBenchmark.measure(file, prompt, context, tokens, runs);
        String section = report(file, threadCount, ours, llama);
        if (prefillTokens > 0) {
            section += prefillReport(file, threadCount);
        }
        System.out.print(section);
        if (markdown != null) {
            Files.writeString(markdown, section, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        return 0;
    }

    private void validate(int threadCount) {
        if ((model == null) == (generateDir == null)) {
            throw new IllegalArgumentException("give exactly one of --model FILE and --generate-1b DIR");
        }
        if (context < 2 || tokens < 1 || runs < 1 || threadCount < 1) {
            throw new IllegalArgumentException("--context=" + context + " --tokens=" + tokens + " --runs=" + runs
                    + " --threads=" + threadCount + ": context must be >= 2 and the others >= 1");
        }
        if (prefillTokens < 0 || prefillRuns < 1) {
            throw new IllegalArgumentException("--prefill-tokens=" + prefillTokens + " --prefill-runs=" + prefillRuns
                    + ": prefill tokens must be >= 0 (0 skips the prefill comparison) and prefill runs >= 1");
        }
    }

    /** The 1B-shape Q8_0 random model in {@code dir}, written there first when missing. */
    public static Path generate1b(Path dir) throws IOException {
        return generate1b(dir, Quantization.Q8_0);
    }

    /** The 1B-shape random model of {@code quantization} in {@code dir}, written there first when missing. */
    static Path generate1b(Path dir, Quantization quantization) throws IOException {
        Files.createDirectories(dir);
        String name = "random-llama-3.2-1b-" + quantization.name().toLowerCase(Locale.ROOT) + ".gguf";
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file)) {
            System.err.println("writing " + file + " (random weights, " + quantization + ", Llama-3.2-1B shape; about "
                    + quantization.gigabytes + " GB)...");
            Path partial = dir.resolve(name + ".partial");
            RandomModels.write(partial, RandomModels.Shape.LLAMA_3_2_1B, quantization.weightTypes(), quantization.name(), 1L, true);
            Files.move(partial, file);
        }
        return file;
    }

    private String report(Path file, int threadCount, DecodeSpeed ours, LlamaCppDecodeBenchmark.Result llama) {
        String command = "bin/icecache bench compare-llamacpp " + (model != null ? "--model " + model
                : "--generate-1b " + generateDir + " --quantization " + quantization)
                + " --context " + context + " --tokens " + tokens + " --threads " + threadCount + " --runs " + runs
                + " --prefill-tokens " + prefillTokens + " --prefill-runs " + prefillRuns;
        StringBuilder sb = new StringBuilder();
        sb.append("\n## compare-llamacpp: ").append(file.getFileName()).append("\n\n");
        sb.append("- command: `").append(command).append("`\n");
        sb.append("- machine: ").append(Machine.cpuModel()).append(", ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores available\n");
        sb.append("- date: ").append(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append("\n");
        sb.append("- decode steps per run: ").append(tokens).append(" after the prompt \"").append(prompt)
                .append("\"; one warm-up run, then ").append(runs).append(" measured; load after: ")
                .append(Machine.loadAverage()).append("\n\n");
        sb.append("| engine | median decode tok/s | runs (tok/s) |\n| --- | ---: | --- |\n");
        row(sb, ours);
        row(sb, llama.evalTime());
        row(sb, llama.wall());
        sb.append(String.format(Locale.ROOT, "%n**ratio icecache / llama.cpp = %.3f** (llama.cpp's own eval time; %.3f against"
                + " its streamed wall clock)%n", ours.median() / llama.evalTime().median(), ours.median() / llama.wall().median()));
        return sb.toString();
    }

    /**
     * Both engines prefill the same prompt of one-letter words: llama.cpp from the request to its
     * first token (its prefill plus one sample), this engine one {@code Session.prefill} with the
     * last position's logits; each llama.cpp run is a fresh JVM (model load not timed).
     */
    private String prefillReport(Path file, int threadCount) throws Exception {
        String loadBefore = Machine.loadAverage();
        String words = LlamaCppPrompt.ofWords(prefillTokens);
        int prefillContext = prefillTokens + 64;
        double[] llamaSpeeds = new double[prefillRuns];
        int llamaTokens = -1;
        for (int run = 0; run < prefillRuns; run++) {
            System.err.println("llama.cpp: prefill of " + prefillTokens + " words, run " + (run + 1) + " of " + prefillRuns + "...");
            LlamaCppContextBenchmark.Result r = LlamaCppContextBenchmark.measure(file, words, prefillContext, 1, threadCount);
            llamaTokens = r.promptTokens();
            llamaSpeeds[run] = r.promptTokens() / r.prefillSeconds();
        }
        System.err.println("icecache: prefill of " + prefillTokens + " words, " + prefillRuns + " runs after a warm-up...");
        EnginePrefillBenchmark.Result ours = EnginePrefillBenchmark.measure(file, words, prefillContext, prefillRuns);
        DecodeSpeed llama = new DecodeSpeed("llama.cpp", llamaSpeeds);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%nPrefill of %d one-letter words (icecache %d tokens with BOS, llama.cpp %d);"
                + " %d measured runs each, load before: %s%n%n", prefillTokens, ours.promptTokens(), llamaTokens, prefillRuns,
                loadBefore));
        sb.append("| engine | median prefill tok/s | runs (tok/s) |\n| --- | ---: | --- |\n");
        row(sb, ours.speed());
        row(sb, llama);
        sb.append(String.format(Locale.ROOT, "%n**prefill ratio icecache / llama.cpp = %.3f** (load after: %s)%n",
                ours.speed().median() / llama.median(), Machine.loadAverage()));
        return sb.toString();
    }

    private static void row(StringBuilder sb, DecodeSpeed speed) {
        StringBuilder runs = new StringBuilder();
        for (double v : speed.tokensPerSecond()) {
            runs.append(runs.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.1f", v));
        }
        sb.append(String.format(Locale.ROOT, "| %s | %.1f | %s |%n", speed.engine(), speed.median(), runs));
    }
}
