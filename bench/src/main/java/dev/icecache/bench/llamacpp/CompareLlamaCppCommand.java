package dev.icecache.bench.llamacpp;

import dev.icecache.model.synthetic.RandomModels;
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
 * same GGUF with the same thread count, medians of several runs. With {@code --generate-1b} it
 * first writes a random-weight Q8_0 model of the Llama-3.2-1B shape and measures that.
 */
@Command(name = "compare-llamacpp", mixinStandardHelpOptions = true,
        description = "Decode speed of this engine relative to llama.cpp (java-llama.cpp) on one GGUF.")
public final class CompareLlamaCppCommand implements Callable<Integer> {

    static final String GENERATED_1B = "random-llama-3.2-1b-q8_0.gguf";

    @Option(names = "--model", description = "GGUF model file (default: none; give it or --generate-1b)")
    Path model;

    @Option(names = "--generate-1b", paramLabel = "DIR",
            description = "write (once) a random-weight Q8_0 GGUF of the Llama-3.2-1B shape into DIR and benchmark it (default: none; give it or --model)")
    Path generateDir;

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

    @Option(names = "--markdown", paramLabel = "FILE", description = "append the result section to FILE, e.g. BENCHMARKS.md (default: none, only the CSV)")
    Path markdown;

    @Override
    public Integer call() throws Exception {
        int threadCount = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        validate(threadCount);
        Path file = model != null ? model : generate1b(generateDir);
        // the engine's compute pool reads this once, on first use
        System.setProperty("icecache.threads", String.valueOf(threadCount));
        LlamaCppDecodeBenchmark.Result llama = LlamaCppDecodeBenchmark.measure(file, prompt, context, tokens, threadCount, runs);
        DecodeSpeed ours = EngineDecodeBenchmark.measure(file, prompt, context, tokens, runs);
        String section = report(file, threadCount, ours, llama);
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
    }

    /** The 1B-shape Q8_0 random model in {@code dir}, written there first when missing. */
    public static Path generate1b(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(GENERATED_1B);
        if (!Files.isRegularFile(file)) {
            System.err.println("writing " + file + " (random weights, Q8_0, Llama-3.2-1B shape; about 1.3 GB)...");
            Path partial = dir.resolve(GENERATED_1B + ".partial");
            RandomModels.write(partial, RandomModels.Shape.LLAMA_3_2_1B, GgmlType.Q8_0, 1L, true);
            Files.move(partial, file);
        }
        return file;
    }

    private String report(Path file, int threadCount, DecodeSpeed ours, LlamaCppDecodeBenchmark.Result llama) {
        String command = "bin/icecache bench compare-llamacpp " + (model != null ? "--model " + model : "--generate-1b " + generateDir)
                + " --context " + context + " --tokens " + tokens + " --threads " + threadCount + " --runs " + runs;
        StringBuilder sb = new StringBuilder();
        sb.append("\n## compare-llamacpp: ").append(file.getFileName()).append("\n\n");
        sb.append("- command: `").append(command).append("`\n");
        sb.append("- machine: ").append(Machine.cpuModel()).append(", ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores available\n");
        sb.append("- date: ").append(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append("\n");
        sb.append("- decode steps per run: ").append(tokens).append(" after the prompt \"").append(prompt)
                .append("\"; one warm-up run, then ").append(runs).append(" measured\n\n");
        sb.append("| engine | median decode tok/s | runs (tok/s) |\n| --- | ---: | --- |\n");
        row(sb, ours);
        row(sb, llama.evalTime());
        row(sb, llama.wall());
        sb.append(String.format(Locale.ROOT, "%n**ratio icecache / llama.cpp = %.3f** (llama.cpp's own eval time; %.3f against"
                + " its streamed wall clock)%n", ours.median() / llama.evalTime().median(), ours.median() / llama.wall().median()));
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
