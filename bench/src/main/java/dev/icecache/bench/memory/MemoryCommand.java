package dev.icecache.bench.memory;

import dev.icecache.bench.plot.LinePlot;
import dev.icecache.bench.plot.ProgressBar;
import dev.icecache.bench.plot.ResultTable;
import dev.icecache.bench.plot.RunInfo;
import dev.icecache.kvcache.policy.Policy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench memory}: resident bytes (the pool a paged cache keeps on the fast tier, plus the
 * dense layers) and process RSS against context length per policy (evaluation.md "Memory").
 * Each point runs in a fresh JVM ({@link MemoryProbe}) so its RSS is its own.
 */
@Command(name = "memory", mixinStandardHelpOptions = true,
        description = "Resident KV bytes and process RSS against context length per policy (1B attention shape).")
public final class MemoryCommand implements Callable<Integer> {

    private static final double MIB = 1024.0 * 1024.0;

    @Option(names = "--contexts", split = ",", defaultValue = "1024,4096,16384,65536",
            description = "context lengths (default ${DEFAULT-VALUE})")
    int[] contexts;

    @Option(names = "--policies", split = ",", defaultValue = "FULL,QUEST,ICECACHE",
            description = "policies (default ${DEFAULT-VALUE})")
    Policy[] policies;

    @Option(names = "--budget", defaultValue = "256", description = "resident tokens per sparse stream (default ${DEFAULT-VALUE})")
    int budget;

    @Option(names = "--shape", split = ",", defaultValue = "16,32,8,64",
            description = "layers,heads,kvHeads,headDim (default ${DEFAULT-VALUE}: Llama-3.2-1B)")
    int[] shape;

    @Option(names = "--probe-heap", defaultValue = "12g", description = "-Xmx of each probe JVM (default ${DEFAULT-VALUE})")
    String probeHeap;

    @Option(names = "--out", defaultValue = "bench/results", description = "folder for CSV and PNG (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--markdown", paramLabel = "FILE", description = "append the result section to FILE, e.g. BENCHMARKS.md (default: none, only the CSV)")
    Path markdown;

    /** One probe's figures. */
    record Row(Policy policy, int context, long poolBytes, long wholeRowBytes, long residentPages, long capacityPages,
               long liveHeap, long rss) {
    }

    @Override
    public Integer call() throws Exception {
        if (shape.length != 4) {
            throw new IllegalArgumentException("--shape needs 4 numbers layers,heads,kvHeads,headDim; got " + shape.length);
        }
        RunInfo info = RunInfo.now();
        ProgressBar bar = ProgressBar.stderr(contexts.length * policies.length);
        List<Row> rows = new ArrayList<>();
        for (Policy policy : policies) {
            for (int context : contexts) {
                bar.show(policy + " " + context);
                rows.add(probe(policy, context));
                bar.step(policy + " " + context);
            }
        }
        ResultTable table = table(rows);
        table.writeCsv(out.resolve("memory.csv"));
        plot(rows);
        String section = "\n## memory: resident KV bytes and process RSS against context length\n\n"
                + "- command: `bin/icecache bench memory --contexts " + join(contexts) + " --policies " + join(policies)
                + " --budget " + budget + " --shape " + join(shape) + " --probe-heap " + probeHeap + "`\n" + info.markdown()
                + "- each point is a fresh JVM (-Xmx" + probeHeap + ") that fills one cache with synthetic rows;"
                + " `pool` = the paged cache's resident pool (sink + window + retrieved pages of every sparse stream),"
                + " `whole-row layers` = K/V rows kept for every position (the 2 dense layers; every layer for Full), F32;"
                + " `live heap` after a full GC includes the slow tier (in-memory page store) and the index\n\n"
                + table.markdown() + "\nPlot: `bench/results/memory.png`.\n";
        System.out.print(section);
        if (markdown != null) {
            Files.writeString(markdown, section, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        return 0;
    }

    private Row probe(Policy policy, int context) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx" + probeHeap, "-XX:+UseParallelGC", "-cp",
                System.getProperty("java.class.path"), MemoryProbe.class.getName(), policy.name(),
                String.valueOf(context), String.valueOf(budget), String.valueOf(shape[0]), String.valueOf(shape[1]),
                String.valueOf(shape[2]), String.valueOf(shape[3])).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("memory probe " + policy + " context=" + context + " failed: "
                    + output.replace('\n', '|') + "; raise --probe-heap or lower the context");
        }
        return parse(output);
    }

    /** The probe line of a probe's output. */
    static Row parse(String output) {
        for (String line : output.split("\n")) {
            if (line.startsWith("probe ")) {
                String[] f = line.trim().split(" ");
                if (f.length != 9) {
                    throw new IllegalArgumentException("probe line has " + f.length + " fields, expected 9: " + line);
                }
                return new Row(Policy.valueOf(f[1]), Integer.parseInt(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]),
                        Long.parseLong(f[5]), Long.parseLong(f[6]), Long.parseLong(f[7]), Long.parseLong(f[8]));
            }
        }
        throw new IllegalArgumentException("no 'probe ...' line in the probe's output: " + output.replace('\n', '|'));
    }

    static ResultTable table(List<Row> rows) {
        ResultTable t = new ResultTable("policy", "context", "pool MiB", "resident pages", "pool capacity pages",
                "whole-row layers MiB", "resident KV MiB", "live heap MiB", "RSS MiB");
        for (Row r : rows) {
            t.add(r.policy(), r.context(), r.poolBytes() / MIB, r.residentPages(), r.capacityPages(),
                    r.wholeRowBytes() / MIB, (r.poolBytes() + r.wholeRowBytes()) / MIB, r.liveHeap() / MIB, r.rss() / MIB);
        }
        return t;
    }

    private void plot(List<Row> rows) throws IOException {
        Map<String, List<Row>> by = new LinkedHashMap<>();
        for (Row r : rows) {
            by.computeIfAbsent(r.policy().name(), k -> new ArrayList<>()).add(r);
        }
        LinePlot plot = new LinePlot("KV memory against context length (1B attention shape)", "context (tokens)", "MiB")
                .logX().logY();
        for (Map.Entry<String, List<Row>> e : by.entrySet()) {
            List<Row> rs = e.getValue();
            double[] x = new double[rs.size()];
            double[] resident = new double[rs.size()];
            double[] rss = new double[rs.size()];
            for (int i = 0; i < rs.size(); i++) {
                x[i] = rs.get(i).context();
                resident[i] = Math.max(1e-3, (rs.get(i).poolBytes() + rs.get(i).wholeRowBytes()) / MIB);
                rss[i] = rs.get(i).rss() / MIB;
            }
            plot.series(e.getKey() + " resident KV", x, resident).series(e.getKey() + " process RSS", x, rss);
        }
        plot.savePng(out.resolve("memory.png"));
    }

    private static String join(Object values) {
        StringBuilder sb = new StringBuilder();
        int n = java.lang.reflect.Array.getLength(values);
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append(java.lang.reflect.Array.get(values, i));
        }
        return sb.toString();
    }
}
