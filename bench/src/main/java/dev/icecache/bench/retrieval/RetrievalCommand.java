package dev.icecache.bench.retrieval;

import dev.icecache.bench.fidelity.ModelOptions;
import dev.icecache.bench.fidelity.PolicyOptions;
import dev.icecache.bench.plot.ProgressBar;
import dev.icecache.bench.plot.RunInfo;
import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.LlamaModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench retrieval}: passkey and multi-key retrieval under each cache policy (issue 5;
 * evaluation.md "passkey / needle accuracy"). Per (policy, budget, length, depth, keys): exact
 * match of the greedy answer, agreement with the full cache's answer, and the needle fetch rate
 * at the first answer step, which does not depend on whether the model can copy.
 */
@Command(name = "retrieval", mixinStandardHelpOptions = true,
        description = "Passkey and multi-key retrieval per cache policy: exact match, agreement with Full, needle fetch rate.")
public final class RetrievalCommand implements Callable<Integer> {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ModelOptions modelOptions;

    @CommandLine.Mixin
    PolicyOptions cacheOptions;

    @Option(names = "--lengths", split = ",", paramLabel = "LIST", defaultValue = "256,512,1024",
            description = "Prompt lengths in tokens (BOS, haystack and question); each plus the answer must fit the"
                    + " context (default: ${DEFAULT-VALUE}).")
    List<Integer> lengths;

    @Option(names = "--depths", split = ",", paramLabel = "LIST", defaultValue = "0,25,50,75,100",
            description = "Needle depths in percent of the haystack (default: ${DEFAULT-VALUE}).")
    List<Integer> depths;

    @Option(names = "--keys", split = ",", paramLabel = "LIST", defaultValue = "1,4",
            description = "Key sentences per haystack: 1 = passkey, more = multi-key, one asked (default: ${DEFAULT-VALUE}).")
    List<Integer> keys;

    @Option(names = "--trials", defaultValue = "10", paramLabel = "N", description = "Haystacks per (length, depth, keys) (default: ${DEFAULT-VALUE}).")
    int trials;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "Seed of the haystacks and of IceCache's projection direction (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--filler", paramLabel = "FILE", defaultValue = "examples/texts/the-rectory-at-hollowmere.txt",
            description = "UTF-8 prose the haystacks repeat (default: ${DEFAULT-VALUE}).")
    Path filler;

    @Option(names = "--csv", required = true, paramLabel = "OUT", description = "CSV file to write (overwritten); the"
            + " plots go beside it as <name>-fetch-<budget>.png.")
    Path csv;

    @Option(names = "--markdown", paramLabel = "FILE", description = "Append the result section to FILE, e.g. BENCHMARKS.md (default: none, only the CSV).")
    Path markdown;

    @Override
    public Integer call() throws IOException {
        List<CacheConfig> configs = validate();
        String fillerText = Files.readString(filler, StandardCharsets.UTF_8);
        RunInfo info = RunInfo.now();
        try (LlamaModel llama = modelOptions.load()) {
            CacheShape shape = llama.cacheShape();
            if (cacheOptions.denseLayers() > shape.nLayers()) {
                throw new IllegalArgumentException("--dense-layers=" + cacheOptions.denseLayers() + " exceeds the model's "
                        + shape.nLayers() + " layers");
            }
            HaystackGenerator generator = new HaystackGenerator(llama.tokenizer(), fillerText, shape.maxTokens());
            for (int length : lengths) {
                for (int k : keys) {
                    checkLength(generator, length, k);
                }
            }
            RetrievalTally tally = run(llama, generator, configs);
            write(shape, info, tally, configs);
        }
        return 0;
    }

    private void checkLength(HaystackGenerator generator, int length, int k) {
        try {
            generator.generate(length, 0, k, seed);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--lengths: " + e.getMessage(), e);
        }
    }

    private RetrievalTally run(LlamaModel llama, HaystackGenerator generator, List<CacheConfig> configs) {
        CacheConfig full = CacheConfig.of(Policy.FULL, cacheOptions.budgets().get(0))
                .withDenseLayers(cacheOptions.denseLayers()).withPageFormat(cacheOptions.pageFormat());
        RetrievalTally tally = new RetrievalTally();
        ProgressBar bar = ProgressBar.stderr(lengths.size() * depths.size() * keys.size() * trials);
        for (int length : lengths) {
            for (int depth : depths) {
                for (int k : keys) {
                    for (int trial = 0; trial < trials; trial++) {
                        String label = String.format(Locale.ROOT, "length %d depth %d%% keys %d trial %d", length, depth, k,
                                trial + 1);
                        bar.show(label);
                        Haystack h = generator.generate(length, depth, k,
                                HaystackGenerator.trialSeed(seed, length, depth, k, trial));
                        RetrievalRun.Attempt reference = RetrievalRun.run(llama, h, full, seed);
                        tally.add(Policy.FULL, RetrievalTally.ANY_BUDGET, h, reference, reference.answer(),
                                reference.needleMass());
                        for (CacheConfig config : configs) {
                            if (config.policy() != Policy.FULL) {
                                tally.add(config.policy(), config.budgetTokens(), h, RetrievalRun.run(llama, h, config, seed),
                                        reference.answer(), reference.needleMass());
                            }
                        }
                        bar.step(label);
                    }
                }
            }
        }
        return tally;
    }

    private void write(CacheShape shape, RunInfo info, RetrievalTally tally, List<CacheConfig> configs) throws IOException {
        List<Policy> policies = new ArrayList<>();
        for (CacheConfig c : configs) {
            if (!policies.contains(c.policy())) {
                policies.add(c.policy());
            }
        }
        RetrievalReport report = new RetrievalReport(tally, policies, cacheOptions.budgets(), lengths, depths, keys);
        report.csvTable().writeCsv(csv);
        String name = csv.getFileName().toString();
        String stem = name.endsWith(".csv") ? name.substring(0, name.length() - 4) : name;
        Path dir = csv.toAbsolutePath().getParent();
        report.writePlots(dir, stem);
        String section = section(shape, info, report, stem);
        PrintWriter out = spec.commandLine().getOut();
        out.print(section);
        out.flush();
        if (markdown != null) {
            Files.writeString(markdown, section, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }

    private String section(CacheShape shape, RunInfo info, RetrievalReport report, String stem) {
        String command = "bin/icecache bench " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
        int dense = cacheOptions.denseLayers();
        StringBuilder sb = new StringBuilder();
        sb.append("\n### retrieval: ").append(modelOptions.file().getFileName()).append(", filler ").append(filler.getFileName())
                .append("\n\n");
        sb.append("- command: `").append(command).append("`\n");
        sb.append(info.markdown());
        sb.append(String.format(Locale.ROOT, "- model: %d layers (%d dense, %d sparse), %d heads, %d KV heads, head size %d,"
                        + " context %d; %d haystacks per (length, depth, keys), seed %d%n", shape.nLayers(), dense,
                shape.nLayers() - dense, shape.nHeads(), shape.nKvHeads(), shape.headDim(), shape.maxTokens(), trials, seed));
        sb.append(cacheOptions.searchNote());
        sb.append("- exact: greedy answer == the planted value's tokens; = Full: greedy answer == the full cache's answer")
                .append(" to the same haystack; fetch: at the first answer step (the last prompt token, decoded alone")
                .append(" after a batched prefill), share of the value's positions among the rows each sparse")
                .append(" (layer, KV head) stream attended, mean over streams and haystacks (dense layers attend")
                .append(" everything and are left out); fetched all: share of streams that attended every value position.")
                .append(" FULL ignores the budget and runs once per haystack (budget \"all\"; 0 in the CSV).\n");
        sb.append(report.fullMassLine());
        sb.append("- CSV: `").append(csv).append("`; plots: `").append(stem).append("-fetch-<budget>.png` beside it\n\n");
        sb.append(report.markdownTable());
        return sb.toString();
    }

    private List<CacheConfig> validate() {
        CommandLine cli = spec.commandLine();
        modelOptions.validate(cli);
        if (trials < 1) {
            throw new CommandLine.ParameterException(cli, "--trials=" + trials + " must be >= 1");
        }
        for (int length : lengths) {
            if (length < 1) {
                throw new CommandLine.ParameterException(cli, "--lengths: " + length + " must be >= 1");
            }
        }
        for (int depth : depths) {
            if (depth < 0 || depth > 100) {
                throw new CommandLine.ParameterException(cli, "--depths: " + depth + " must be within [0, 100] (percent)");
            }
        }
        for (int k : keys) {
            if (k < 1 || k > HaystackGenerator.MAX_KEYS) {
                throw new CommandLine.ParameterException(cli, "--keys: " + k + " must be within [1, "
                        + HaystackGenerator.MAX_KEYS + "]");
            }
        }
        return cacheOptions.configs(cli);
    }
}
