package dev.icecache.bench.fidelity;

import dev.icecache.bench.llamacpp.Machine;
import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench fidelity}: teacher-forced fidelity of cache policies against the full cache over
 * the first N positions of a text (BOS + its tokens), one CSV row per (policy, budget) and a
 * Markdown section (issue 3; evaluation.md "Fidelity of a cache policy").
 */
@Command(name = "fidelity", mixinStandardHelpOptions = true,
        description = "Fidelity of KV-cache policies against the full cache, teacher-forced over a text.")
public final class FidelityCommand implements Callable<Integer> {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ModelOptions modelOptions;

    @Option(names = "--text", required = true, paramLabel = "FILE", description = "UTF-8 text to teacher-force.")
    Path text;

    @Option(names = "--tokens", required = true, paramLabel = "N", description = "Positions to compare: BOS + the first N-1 tokens of the text.")
    int tokens;

    @CommandLine.Mixin
    PolicyOptions cacheOptions;

    @Option(names = "--csv", required = true, paramLabel = "OUT", description = "CSV file to write (overwritten).")
    Path csv;

    @Option(names = "--markdown", paramLabel = "FILE", description = "Append the result section to FILE, e.g. BENCHMARKS.md (default: none, only the CSV).")
    Path markdown;

    @Option(names = "--topk", defaultValue = "16", paramLabel = "K", description = "k of the top-k token recall (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--prefill-block", defaultValue = "1", paramLabel = "N",
            description = "Policy runs prefill blocks of N positions (one page selection per forward pass of up to"
                    + " -Dicecache.prefill.batch positions) and are compared at every position; 1 steps every position"
                    + " (default: ${DEFAULT-VALUE}).")
    int prefillBlock;

    @Option(names = "--diagnose", description = "Add the page diagnosis (issue 18): attention recall of the best choice"
            + " among the policy's own pages and among positional pages, top-k concentration and key spread, also by"
            + " layer and KV head (default: off).")
    boolean diagnose;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "Seed of IceCache's projection direction (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws IOException {
        List<CacheConfig> configs = validate();
        String body = Files.readString(text, StandardCharsets.UTF_8);
        try (LlamaModel llama = modelOptions.load()) {
            CacheShape shape = llama.cacheShape();
            if (tokens > shape.maxTokens()) {
                throw new IllegalArgumentException("--tokens=" + tokens + " exceeds the context length=" + shape.maxTokens()
                        + "; raise --context or lower --tokens");
            }
            if (cacheOptions.denseLayers() > shape.nLayers()) {
                throw new IllegalArgumentException("--dense-layers=" + cacheOptions.denseLayers() + " exceeds the model's "
                        + shape.nLayers() + " layers");
            }
            int[] sequence = sequence(llama.tokenizer(), body);
            PrintWriter err = spec.commandLine().getErr();
            err.printf(Locale.ROOT, "fidelity: full-cache reference over %d positions of %s...%n", tokens, text);
            err.flush();
            FidelityRun run = new FidelityRun(llama, sequence, tokens);
            List<FidelityResult> results = new ArrayList<>();
            for (CacheConfig config : configs) {
                FidelityResult r = run.measure(config, topK, seed, prefillBlock, diagnose);
                results.add(r);
                err.println(FidelityReport.progressLine(r));
                err.flush();
            }
            write(shape, results);
        }
        return 0;
    }

    /** BOS + the text's tokens, cut to {@code tokens} positions plus the next token when the text has it. */
    private int[] sequence(Tokenizer tokenizer, String body) {
        int[] textTokens = tokenizer.encode(body);
        boolean bos = tokenizer.bos() >= 0;
        int available = textTokens.length + (bos ? 1 : 0);
        if (available < tokens) {
            throw new IllegalArgumentException("text " + text + " has " + available + " tokens" + (bos ? " with BOS" : "")
                    + ", fewer than --tokens=" + tokens + "; use a longer text or lower --tokens");
        }
        int[] seq = new int[Math.min(available, tokens + 1)];
        if (bos) {
            seq[0] = tokenizer.bos();
        }
        System.arraycopy(textTokens, 0, seq, bos ? 1 : 0, seq.length - (bos ? 1 : 0));
        return seq;
    }

    private void write(CacheShape shape, List<FidelityResult> results) throws IOException {
        Path parent = csv.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(csv, FidelityReport.csv(results, topK), StandardCharsets.UTF_8);
        String section = section(shape, results);
        PrintWriter out = spec.commandLine().getOut();
        out.print(section);
        out.flush();
        if (markdown != null) {
            Files.writeString(markdown, section, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }

    private String section(CacheShape shape, List<FidelityResult> results) {
        String command = "bin/icecache bench " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
        StringBuilder sb = new StringBuilder();
        sb.append("\n## fidelity: ").append(modelOptions.file().getFileName()).append(", ").append(tokens).append(" positions of ")
                .append(text.getFileName()).append("\n\n");
        sb.append("- command: `").append(command).append("`\n");
        sb.append("- machine: ").append(Machine.cpuModel()).append(", ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores available\n");
        sb.append("- date: ").append(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append("\n");
        sb.append(String.format(Locale.ROOT, "- model: %d layers (%d dense, %d sparse), %d heads, %d KV heads, head size %d,"
                        + " context %d; teacher-forced over BOS + the first %d tokens of the text; projection seed %d%n",
                shape.nLayers(), cacheOptions.denseLayers(), shape.nLayers() - cacheOptions.denseLayers(), shape.nHeads(),
                shape.nKvHeads(), shape.headDim(), shape.maxTokens(), tokens - 1, seed));
        sb.append(cacheOptions.searchNote());
        sb.append("- top-1, KL, ppl ratio, attn recall and top-").append(topK).append(" recall are over **all** ")
                .append(tokens).append(" positions; the \"> budget\" columns only over positions p with p + 1 > budget")
                .append(" (more cached tokens than the budget holds; before that every policy attends to everything")
                .append(" except where a semantic index splits the tokens into more pages than it may select).\n");
        sb.append("- attn recall: share of the full softmax mass of each query head over all cached positions that the")
                .append(" attended positions hold; top-k recall: |exact top-k ∩ attended| / k; both over sparse layers,")
                .append(" averaged over query heads and positions. rows useful: share of the rows of selected index pages")
                .append(" (not sink, window or the query itself) that are in the exact top-k of one of their KV head's")
                .append(" query heads, pooled; pages moved/step: pages fetched from the store per sparse (layer, position).\n\n");
        sb.append(FidelityReport.markdownTable(results, topK));
        if (diagnose) {
            sb.append(FidelityReport.diagnosisNote(topK, shape.headDim()));
            sb.append(FidelityReport.diagnosisTable(results, topK));
            sb.append("\nBy sparse layer and KV head (head size ").append(shape.headDim()).append("):\n\n");
            sb.append(FidelityReport.diagnosisByStream(results, shape.nLayers(), shape.nKvHeads()));
        }
        return sb.toString();
    }

    private List<CacheConfig> validate() {
        CommandLine cli = spec.commandLine();
        if (tokens < 1) {
            throw new CommandLine.ParameterException(cli, "--tokens=" + tokens + " must be >= 1");
        }
        modelOptions.validate(cli);
        if (topK < 1) {
            throw new CommandLine.ParameterException(cli, "--topk=" + topK + " must be >= 1");
        }
        if (prefillBlock < 1) {
            throw new CommandLine.ParameterException(cli, "--prefill-block=" + prefillBlock + " must be >= 1");
        }
        return cacheOptions.configs(cli);
    }
}
