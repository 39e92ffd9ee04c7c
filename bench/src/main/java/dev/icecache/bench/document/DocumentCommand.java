package dev.icecache.bench.document;

import dev.icecache.bench.SweepOptions;
import dev.icecache.bench.llamacpp.CompareLlamaCppCommand;
import dev.icecache.bench.llamacpp.LlamaCppContextBenchmark;
import dev.icecache.bench.plot.ProgressBar;
import dev.icecache.bench.plot.RunInfo;
import dev.icecache.bench.speed.PolicyCaches;
import dev.icecache.bench.speed.SyntheticContext;
import dev.icecache.bench.speed.TimedKvCache;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.model.LlamaModel;
import dev.icecache.model.LoadOptions;
import dev.icecache.model.Session;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench document}: time to summary of a real long text (issue 13): prefill of the first n
 * tokens of a book, then {@code --generate} greedy tokens, per policy, through the engine alone,
 * beside llama.cpp on the same GGUF and threads. Prefill and decode are each split into index /
 * moves / attention / append / model ({@link SummaryTime}).
 *
 * <pre>
 *   end-to-end  (--lengths)  real prefill of n book tokens + generation, per policy
 *   block       (--depths)   synthetic rows (as bench speed) up to depth - block, then a real
 *                            prefill block of --block book tokens ending at depth, then decode
 *                            steps: the prefill rate at that depth; time to summary integrated
 *   llamacpp    (--llamacpp-lengths) measured; fitted beyond (power law through the last two)
 * </pre>
 *
 * Each finished point is appended to {@code document.csv} at once; a rerun skips points already there.
 */
@Command(name = "document", mixinStandardHelpOptions = true,
        description = "Time to summary of a long text (prefill + generation) per policy, beside llama.cpp.")
public final class DocumentCommand implements Callable<Integer> {

    @Mixin
    SweepOptions sweep;

    @Option(names = "--model", description = "GGUF model (default: none; give this or --generate-1b)")
    Path model;

    @Option(names = "--generate-1b", paramLabel = "DIR",
            description = "use (writing it first when missing) the 1B-shape Q8_0 random model in DIR, as compare-llamacpp"
                    + " (default: none; give this or --model)")
    Path generateDir;

    @Option(names = "--book", defaultValue = "examples/books/persuasion.txt",
            description = "the long text (default ${DEFAULT-VALUE}; examples/fetch-books.sh fetches it)")
    Path book;

    @Option(names = "--lengths", split = ",", defaultValue = "4096",
            description = "end-to-end document lengths in tokens (default ${DEFAULT-VALUE}; 0 = none)")
    int[] lengths;

    @Option(names = "--generate", defaultValue = "128", description = "tokens generated after the prefill (default ${DEFAULT-VALUE})")
    int generate;

    @Option(names = "--depths", split = ",", defaultValue = "0",
            description = "depths at which a real prefill block is timed after a synthetic fill (default ${DEFAULT-VALUE} = none)")
    int[] depths;

    @Option(names = "--depth-policies", split = ",", defaultValue = "QUEST,ICECACHE,ICECACHE_REUSE",
            description = "policies timed at --depths (default ${DEFAULT-VALUE})")
    Policy[] depthPolicies;

    @Option(names = "--block", defaultValue = "512", description = "positions of a timed prefill block (default ${DEFAULT-VALUE})")
    int block;

    @Option(names = "--depth-decode-steps", defaultValue = "8",
            description = "decode steps timed after each block; time to summary uses their mean (default ${DEFAULT-VALUE})")
    int depthSteps;

    @Option(names = "--llamacpp-lengths", split = ",", defaultValue = "4096",
            description = "lengths at which llama.cpp prefills the book and times decode steps (default ${DEFAULT-VALUE}; 0 = none)")
    int[] llamaLengths;

    @Option(names = "--llamacpp-steps", defaultValue = "16", description = "llama.cpp decode steps timed (default ${DEFAULT-VALUE})")
    int llamaSteps;

    @Option(names = "--warmup-tokens", defaultValue = "96",
            description = "tokens prefilled (and 2 steps) unmeasured before the first point, so no point pays the JIT's"
                    + " warm-up (default ${DEFAULT-VALUE}; 0 = none)")
    int warmupTokens;

    @Option(names = "--cpu-clock", description = "time phases by the engine thread's CPU time; needs --threads 1"
            + " (for a machine loaded beyond its cores; default: wall time)")
    boolean cpuClock;

    @Override
    public Integer call() throws Exception {
        if ((model == null) == (generateDir == null)) {
            throw new IllegalArgumentException("give exactly one of --model FILE and --generate-1b DIR");
        }
        if (model == null) {
            model = CompareLlamaCppCommand.generate1b(generateDir);
        }
        int threadCount = sweep.threadCount();
        int[] ends = positive(lengths);
        int[] deep = positive(depths);
        if (generate < 1 || block < 1 || depthSteps < 1 || threadCount < 1 || llamaSteps < 5 || warmupTokens < 0) {
            throw new IllegalArgumentException("--generate, --block, --depth-decode-steps and --threads must be >= 1, --warmup-tokens >= 0,"
                    + " --llamacpp-steps >= 5");
        }
        if (cpuClock && threadCount != 1) {
            throw new IllegalArgumentException("--cpu-clock needs --threads 1 (CPU time of one thread is all the work only then)");
        }
        SummaryTime.cpuClock = cpuClock;
        for (int d : deep) {
            if (d <= block) {
                throw new IllegalArgumentException("--depths " + d + " must exceed --block " + block);
            }
        }
        if (!Files.isRegularFile(book)) {
            throw new IllegalArgumentException("--book " + book + " is not a file; run examples/fetch-books.sh first");
        }
        System.setProperty("icecache.threads", String.valueOf(threadCount));
        RunInfo info = RunInfo.now();
        DocumentCsv csv = new DocumentCsv(sweep.out().resolve("document.csv"));
        int longest = Math.max(max(ends), max(deep));
        try (LlamaModel llama = LlamaModel.load(model, new LoadOptions(null, longest + generate + depthSteps + 16))) {
            int[] tokens = bookTokens(llama, longest);
            if (warmupTokens > 0) {
                System.err.println("warm-up: " + warmupTokens + " tokens unmeasured...");
                KvCache cache = PolicyCaches.create(Policy.ICECACHE, llama.cacheShape(), sweep.budget(), sweep.seed());
                TimedKvCache timed = new TimedKvCache(cache);
                Session session = llama.newSession(timed);
                int[] first = new int[1];
                SummaryTime.prefill(session, timed, tokens, 0, Math.min(warmupTokens, tokens.length), first);
                SummaryTime.generate(session, timed, first[0], 2);
                cache.close();
            }
            int work = ends.length * sweep.policies().length + deep.length * depthPolicies.length;
            ProgressBar bar = ProgressBar.stderr(Math.max(1, work));
            for (int n : ends) {
                for (Policy p : sweep.policies()) {
                    if (csv.find("end-to-end", p.name(), n) == null) {
                        bar.show(p + " " + n + " end to end");
                        csv.add(endToEnd(llama, tokens, n, p));
                    }
                    bar.step(p + " " + n);
                    System.gc();
                }
            }
            for (int d : deep) {
                for (Policy p : depthPolicies) {
                    if (csv.find("block", p.name(), d) == null) {
                        bar.show(p + " block at " + d + ": filling");
                        csv.add(blockAt(llama, tokens, d, p));
                    }
                    bar.step(p + " block at " + d);
                    System.gc();
                }
            }
            for (int n : positive(llamaLengths)) {
                if (csv.find("llamacpp", "LLAMA_CPP", n) == null) {
                    System.err.println("llama.cpp: prefilling " + n + " book tokens, then " + llamaSteps + " steps...");
                    String prompt = llama.tokenizer().decode(Arrays.copyOf(tokens, n));
                    LlamaCppContextBenchmark.Result r = LlamaCppContextBenchmark.measure(model, prompt, n, llamaSteps,
                            threadCount);
                    double decode = r.medianStepMs() / 1e3 * generate;
                    csv.add(new DocumentCsv.Row("llamacpp", "LLAMA_CPP", n,
                            new SummaryTime(r.promptTokens(), r.prefillSeconds(), 0, 0, 0, 0, r.prefillSeconds()),
                            new SummaryTime(generate, decode, 0, 0, 0, 0, decode), RunInfo.currentLoadAverage()));
                }
            }
        }
        String section = new DocumentReport(csv.rows(), generate).markdown(command(threadCount), info);
        System.out.print(section);
        sweep.appendMarkdown(section);
        return 0;
    }

    /** The first {@code n} tokens of the book, the text repeated when it is shorter. */
    private int[] bookTokens(LlamaModel llama, int n) throws java.io.IOException {
        int[] once = llama.tokenizer().encode(Files.readString(book, StandardCharsets.UTF_8));
        if (once.length == 0) {
            throw new IllegalArgumentException("--book " + book + " holds no text");
        }
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = once[i % once.length];
        }
        return t;
    }

    private DocumentCsv.Row endToEnd(LlamaModel llama, int[] tokens, int n, Policy policy) {
        KvCache cache = PolicyCaches.create(policy, llama.cacheShape(), sweep.budget(), sweep.seed());
        TimedKvCache timed = new TimedKvCache(cache);
        Session session = llama.newSession(timed);
        int[] first = new int[1];
        SummaryTime prefill = SummaryTime.prefill(session, timed, tokens, 0, n, first);
        SummaryTime decode = SummaryTime.generate(session, timed, first[0], generate - 1); // + the first: generate tokens
        cache.close();
        return new DocumentCsv.Row("end-to-end", policy.name(), n, prefill, decode, RunInfo.currentLoadAverage());
    }

    private DocumentCsv.Row blockAt(LlamaModel llama, int[] tokens, int depth, Policy policy) {
        KvCache cache = PolicyCaches.create(policy, llama.cacheShape(), sweep.budget(), sweep.seed());
        new SyntheticContext(llama.cacheShape(), sweep.seed()).fill(cache, depth - block, PolicyCaches.attendFromLayer(cache), null);
        TimedKvCache timed = new TimedKvCache(cache);
        Session session = llama.newSession(timed);
        int[] first = new int[1];
        SummaryTime prefill = SummaryTime.prefill(session, timed, tokens, depth - block, block, first);
        SummaryTime decode = SummaryTime.generate(session, timed, first[0], depthSteps);
        cache.close();
        return new DocumentCsv.Row("block", policy.name(), depth, prefill, decode, RunInfo.currentLoadAverage());
    }

    private static int[] positive(int[] a) {
        return Arrays.stream(a).filter(x -> x > 0).sorted().distinct().toArray();
    }

    private static int max(int[] a) {
        return Arrays.stream(a).max().orElse(0);
    }

    private String command(int threadCount) {
        return "bin/icecache bench document --model " + model + " --book " + book + " --lengths " + join(lengths)
                + " --policies " + join(sweep.policies()) + " --generate " + generate + " --budget " + sweep.budget() + " --depths "
                + join(depths) + " --depth-policies " + join(depthPolicies) + " --block " + block
                + " --llamacpp-lengths " + join(llamaLengths) + " --threads " + threadCount + (cpuClock ? " --cpu-clock" : "");
    }

    private static String join(int[] a) {
        return String.join(",", Arrays.stream(a).mapToObj(String::valueOf).toArray(String[]::new));
    }

    private static String join(Policy[] a) {
        return String.join(",", Arrays.stream(a).map(Enum::name).toArray(String[]::new));
    }
}
