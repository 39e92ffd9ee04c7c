package dev.icecache.bench.speed;

import dev.icecache.bench.plot.LinePlot;
import dev.icecache.bench.plot.ResultTable;
import dev.icecache.bench.plot.RunInfo;
import dev.icecache.kvcache.policy.Policy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The tables, plots and target checks of {@code bench speed}.
 *
 * <pre>
 *   speed.csv                    one row per (context, policy): the median step's split, every step's total
 *   speed-latency.png            median ms per token against context, one line per policy (+ llama.cpp)
 *   speed-split-&lt;policy&gt;.png   index / moves / attention / model ms against context
 * </pre>
 */
final class SpeedReport {

    private static final double MS = 1e6;
    private static final double GB = 1e9;

    private final List<LongContextSpeed.Point> points;
    private final List<double[]> llama;      // {context, median tok/s}
    private final double bandwidth;         // bytes/s
    private final long weightBytes;

    SpeedReport(List<LongContextSpeed.Point> points, List<double[]> llama, double bandwidth, long weightBytes) {
        this.points = points;
        this.llama = llama;
        this.bandwidth = bandwidth;
        this.weightBytes = weightBytes;
    }

    ResultTable table() {
        ResultTable t = new ResultTable("context", "policy", "tok/s", "ms/token", "index ms", "moves ms", "attention ms",
                "append ms", "model ms", "index share %", "fill s", "resident KV MiB", "step totals ms");
        for (LongContextSpeed.Point p : points) {
            StepSplit m = p.median();
            StringBuilder all = new StringBuilder();
            for (StepSplit s : p.steps()) {
                all.append(all.length() == 0 ? "" : " ").append(ResultTable.num(s.total() / MS));
            }
            t.add(p.context(), p.policy(), m.tokensPerSecond(), m.total() / MS, m.index() / MS, m.moves() / MS,
                    m.attention() / MS, m.append() / MS, m.model() / MS, 100.0 * m.index() / m.total(),
                    p.fillSeconds(), p.residentBytes() / 1048576.0, all.toString());
        }
        return t;
    }

    void writeCsv(Path file) throws IOException {
        table().writeCsv(file);
    }

    void writePlots(Path dir) throws IOException {
        LinePlot latency = new LinePlot("Decode latency per token (1B shape, synthetic context)", "context (tokens)",
                "ms per token (median)").logX();
        for (Map.Entry<Policy, List<LongContextSpeed.Point>> e : byPolicy().entrySet()) {
            List<LongContextSpeed.Point> ps = e.getValue();
            double[] x = new double[ps.size()];
            double[] y = new double[ps.size()];
            for (int i = 0; i < ps.size(); i++) {
                x[i] = ps.get(i).context();
                y[i] = ps.get(i).median().total() / MS;
            }
            latency.series(e.getKey().name(), x, y);
            split(e.getKey(), ps).savePng(dir.resolve("speed-split-" + e.getKey().name().toLowerCase(Locale.ROOT) + ".png"));
        }
        if (!llama.isEmpty()) {
            double[] x = new double[llama.size()];
            double[] y = new double[llama.size()];
            for (int i = 0; i < llama.size(); i++) {
                x[i] = llama.get(i)[0];
                y[i] = 1000.0 / llama.get(i)[1];
            }
            latency.series("llama.cpp (f16 cache)", x, y);
        }
        latency.savePng(dir.resolve("speed-latency.png"));
    }

    private static LinePlot split(Policy policy, List<LongContextSpeed.Point> ps) {
        int n = ps.size();
        double[] x = new double[n];
        double[][] y = new double[4][n];
        for (int i = 0; i < n; i++) {
            StepSplit m = ps.get(i).median();
            x[i] = ps.get(i).context();
            y[0][i] = m.index() / MS;
            y[1][i] = m.moves() / MS;
            y[2][i] = m.attention() / MS;
            y[3][i] = (m.model() + m.append()) / MS;
        }
        return new LinePlot("Where a decode step's time goes: " + policy, "context (tokens)", "ms (median step)").logX()
                .series("index query", x, y[0]).series("page moves", x, y[1]).series("attention", x, y[2])
                .series("model + append", x, y[3]);
    }

    private Map<Policy, List<LongContextSpeed.Point>> byPolicy() {
        Map<Policy, List<LongContextSpeed.Point>> m = new LinkedHashMap<>();
        for (LongContextSpeed.Point p : points) {
            m.computeIfAbsent(p.policy(), k -> new ArrayList<>()).add(p);
        }
        return m;
    }

    String markdown(String command, RunInfo info, int threads) {
        StringBuilder sb = new StringBuilder("\n## speed: decode latency against context length\n\n");
        sb.append("- command: `").append(command).append("`\n").append(info.markdown());
        sb.append(String.format(Locale.ROOT, "- memory bandwidth (Java STREAM-like triad, %d threads, best of 5): %.2f GB/s%n",
                threads, bandwidth / GB));
        sb.append(String.format(Locale.ROOT, "- weights read per token: %.2f GB, so at least %.0f ms per token at that"
                + " bandwidth before any KV row is read%n", weightBytes / GB, 1000 * weightBytes / bandwidth));
        sb.append("- each row: the median of the measured steps (by total); its split is that step's. "
                + "`attention` includes the dense layers' full attention; `resident KV` is the pool plus dense layers"
                + " (paged) or every row (Full), F32\n\n");
        sb.append(table().markdown());
        if (!llama.isEmpty()) {
            sb.append("\n| context | llama.cpp median decode tok/s | ms/token |\n| ---: | ---: | ---: |\n");
            for (double[] r : llama) {
                sb.append(String.format(Locale.ROOT, "| %d | %s | %s |%n", (int) r[0], ResultTable.num(r[1]),
                        ResultTable.num(1000 / r[1])));
            }
        }
        sb.append("\nPlots: `bench/results/speed-latency.png`, `bench/results/speed-split-<policy>.png`.\n");
        return sb.toString();
    }
}
