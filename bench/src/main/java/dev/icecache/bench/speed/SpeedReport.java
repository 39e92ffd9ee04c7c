package dev.icecache.bench.speed;

import dev.icecache.bench.llamacpp.LlamaCppContextBenchmark;
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
import java.util.TreeSet;

/**
 * The tables, plots and target checks of {@code bench speed}.
 *
 * <pre>
 *   speed.csv                    one row per (context, policy): the median step's split, every step's total
 *   speed-latency.png            median ms per token against context, one line per policy (+ llama.cpp,
 *                                measured and extrapolated)
 *   speed-split-&lt;policy&gt;.png   index / moves / attention / model ms against context
 * </pre>
 */
final class SpeedReport {

    private static final double MS = 1e6;
    private static final double GB = 1e9;

    private final List<LongContextSpeed.Point> points;
    private final List<LlamaCppContextBenchmark.Result> llama; // ascending context
    private final List<String> llamaNotes;  // contexts skipped, and why
    private final double bandwidth;         // bytes/s
    private final long weightBytes;

    SpeedReport(List<LongContextSpeed.Point> points, List<LlamaCppContextBenchmark.Result> llama, List<String> llamaNotes,
                double bandwidth, long weightBytes) {
        this.points = points;
        this.llama = llama;
        this.llamaNotes = llamaNotes;
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
                x[i] = llama.get(i).context();
                y[i] = llama.get(i).medianStepMs();
            }
            latency.series("llama.cpp (f16 cache)", x, y);
            LinearFit fit = llamaFit();
            int maxContext = maxContext();
            if (fit != null && maxContext > x[x.length - 1]) {
                latency.series("llama.cpp extrapolated (line fit)", new double[] {x[x.length - 1], maxContext},
                        new double[] {y[y.length - 1], fit.at(maxContext)});
            }
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

    /** The least-squares line of llama.cpp's median ms/token against context, or null below 2 contexts. */
    LinearFit llamaFit() {
        if (llama.size() < 2) {
            return null;
        }
        double[] x = new double[llama.size()];
        double[] y = new double[llama.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = llama.get(i).context();
            y[i] = llama.get(i).medianStepMs();
        }
        return LinearFit.of(x, y);
    }

    private int maxContext() {
        int max = 0;
        for (LongContextSpeed.Point p : points) {
            max = Math.max(max, p.context());
        }
        return max;
    }

    /** llama.cpp's measured contexts and, beyond the last one, the extrapolated engine contexts. */
    ResultTable llamaTable() {
        ResultTable t = new ResultTable("context", "source", "prompt tokens", "prefill s", "median ms/token",
                "tok/s", "llama.cpp eval-time ms/token (mean)", "step ms");
        int lastMeasured = 0;
        for (LlamaCppContextBenchmark.Result r : llama) {
            StringBuilder steps = new StringBuilder();
            for (double v : r.stepMs()) {
                steps.append(steps.length() == 0 ? "" : " ").append(ResultTable.num(v));
            }
            t.add(r.context(), "measured", r.promptTokens(), r.prefillSeconds(), r.medianStepMs(),
                    1000 / r.medianStepMs(), r.evalMsPerToken(), steps.toString());
            lastMeasured = Math.max(lastMeasured, r.context());
        }
        LinearFit fit = llamaFit();
        if (fit != null) {
            TreeSet<Integer> beyond = new TreeSet<>();
            for (LongContextSpeed.Point p : points) {
                if (p.context() > lastMeasured) {
                    beyond.add(p.context());
                }
            }
            for (int c : beyond) {
                double ms = fit.at(c);
                t.add(c, "**extrapolated**", "-", "-", ms, 1000 / ms, "-", "-");
            }
        }
        return t;
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
            sb.append("\nllama.cpp (same GGUF and threads, its f16 cache): the prompt is prefilled once per context, then"
                    + " each decode step is timed between streamed tokens; `median ms/token` is their median,"
                    + " `eval-time` llama.cpp's own mean over the same steps.\n\n");
            sb.append(llamaTable().markdown());
            LinearFit fit = llamaFit();
            if (fit != null) {
                sb.append(String.format(Locale.ROOT, "%n**extrapolated** rows: least-squares line of the measured medians,"
                        + " ms/token = %s + %s per 1k tokens of context (%d points); not measured.%n",
                        ResultTable.num(fit.intercept()), ResultTable.num(1000 * fit.slope()), llama.size()));
            }
        }
        for (String note : llamaNotes) {
            sb.append("\n- ").append(note).append('\n');
        }
        sb.append("\nPlots: `bench/results/speed-latency.png`, `bench/results/speed-split-<policy>.png`.\n");
        return sb.toString();
    }
}
