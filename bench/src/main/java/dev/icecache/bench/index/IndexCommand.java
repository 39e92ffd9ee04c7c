package dev.icecache.bench.index;

import dev.icecache.bench.plot.LinePlot;
import dev.icecache.bench.plot.ProgressBar;
import dev.icecache.bench.plot.ResultTable;
import dev.icecache.bench.plot.RunInfo;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.tree.DciParams;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench index}: build, insert and query costs of one DCI tree and the exact dot products
 * per query as a share of n, for n from 1k to 64k (evaluation.md "Index costs").
 */
@Command(name = "index", mixinStandardHelpOptions = true,
        description = "DCI-tree costs: build per 1k tokens, insert per 16-token batch, query per head, exact dots / n.")
public final class IndexCommand implements Callable<Integer> {

    @Option(names = "--sizes", split = ",", defaultValue = "1024,2048,4096,8192,16384,32768,65536",
            description = "tokens per tree (default ${DEFAULT-VALUE})")
    int[] sizes;

    @Option(names = "--head-dim", defaultValue = "64", description = "floats per key (default ${DEFAULT-VALUE}, Llama-3.2-1B)")
    int headDim;

    @Option(names = "--budget", defaultValue = "256", description = "budget tokens; pages per query = retrieved pages (default ${DEFAULT-VALUE})")
    int budget;

    @Option(names = "--repeats", defaultValue = "5", description = "repeats per timing; medians reported (default ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--queries", defaultValue = "64", description = "searches per repeat (default ${DEFAULT-VALUE})")
    int queries;

    @Option(names = "--inserts", defaultValue = "16", description = "16-token batches inserted per repeat (default ${DEFAULT-VALUE})")
    int inserts;

    @Option(names = "--seed", defaultValue = "1", description = "seed of keys, queries and projection (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", defaultValue = "bench/results", description = "folder for CSV and PNG (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--markdown", paramLabel = "FILE", description = "append the result section to FILE, e.g. BENCHMARKS.md (default: none, only the CSV)")
    Path markdown;

    @Override
    public Integer call() throws Exception {
        RunInfo info = RunInfo.now();
        int maxPages = CacheConfig.of(dev.icecache.kvcache.policy.Policy.ICECACHE, budget).retrievedPages();
        IndexCosts costs = new IndexCosts(headDim, DciParams.defaults(), seed);
        ProgressBar bar = ProgressBar.stderr(sizes.length);
        List<IndexCosts.Point> points = new ArrayList<>();
        for (int n : sizes) {
            bar.show("n=" + n);
            points.add(costs.measure(n, maxPages, repeats, queries, inserts));
            bar.step("n=" + n);
        }
        ResultTable table = table(points);
        table.writeCsv(out.resolve("index.csv"));
        plots(points);
        String section = "\n## index: DCI-tree costs (one layer and KV head)\n\n- command: `bin/icecache bench index --sizes "
                + join(sizes) + " --head-dim " + headDim + " --budget " + budget + " --repeats " + repeats + " --queries "
                + queries + " --inserts " + inserts + "`\n" + info.markdown()
                + String.format(Locale.ROOT, "- keys: clustered synthetic rows (64 clusters, SyntheticContext), default"
                        + " DciParams, %d pages per query (budget %d); medians of %d repeats%n%n", maxPages, budget, repeats)
                + table.markdown() + "\nPlots: `bench/results/index-costs.png`, `bench/results/index-dot-share.png`.\n";
        System.out.print(section);
        if (markdown != null) {
            Files.writeString(markdown, section, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        return 0;
    }

    static ResultTable table(List<IndexCosts.Point> points) {
        ResultTable t = new ResultTable("n", "pages", "build ms / 1k tokens", "insert us / 16-token batch",
                "query us / head", "exact dots / query", "dots / n %", "recall vs exhaustive F32 %");
        for (IndexCosts.Point p : points) {
            t.add(p.tokens(), p.pages(), p.buildNanosPer1k() / 1e6, p.insertNanos() / 1e3, p.queryNanos() / 1e3,
                    p.dotsPerQuery(), 100 * p.dotShare(), 100 * p.recall());
        }
        return t;
    }

    private void plots(List<IndexCosts.Point> points) throws java.io.IOException {
        int n = points.size();
        double[] x = new double[n];
        double[] build = new double[n];
        double[] insert = new double[n];
        double[] query = new double[n];
        double[] share = new double[n];
        for (int i = 0; i < n; i++) {
            IndexCosts.Point p = points.get(i);
            x[i] = p.tokens();
            build[i] = p.buildNanosPer1k() / 1e3;
            insert[i] = p.insertNanos() / 1e3;
            query[i] = p.queryNanos() / 1e3;
            share[i] = 100 * p.dotShare();
        }
        new LinePlot("DCI-tree costs against tokens indexed", "tokens (n)", "microseconds").logX().logY()
                .series("build per 1k tokens", x, build).series("insert per 16-token batch", x, insert)
                .series("query per head", x, query).savePng(out.resolve("index-costs.png"));
        new LinePlot("Exact dot products per query as a share of n", "tokens (n)", "% of n").logX()
                .series("exact dots / n", x, share).savePng(out.resolve("index-dot-share.png"));
    }

    private static String join(int[] values) {
        StringBuilder sb = new StringBuilder();
        for (int v : values) {
            sb.append(sb.length() == 0 ? "" : ",").append(v);
        }
        return sb.toString();
    }
}
