package dev.icecache.bench.memory;

import dev.icecache.bench.plot.LinePlot;
import dev.icecache.bench.plot.ProgressBar;
import dev.icecache.bench.plot.ResultTable;
import dev.icecache.bench.plot.RunInfo;
import dev.icecache.bench.speed.SyntheticContext;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.model.JavaRuntime;
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
 * {@code bench memory}: the memory one live document costs per token, IceCache beside a full
 * float32 cache and a full 16-bit cache, against context length (evaluation.md "Memory", issue
 * 12). Each measured point runs in a fresh JVM ({@link MemoryProbe}) so its RSS is its own.
 *
 * <pre>
 *   Full F32   measured (FullCache) while its rows fit --probe-heap, else computed: 4 B x 2 x layers x kvDim
 *   Full F16   computed: 2 B x 2 x layers x kvDim per token (llama.cpp's default f16 cache)
 *   IceCache   measured: BF16 rows by default, the slow tier in a memory-mapped file (off the heap,
 *              as RocksDB is in the job); breakdown ranking keys / node metadata / dense rows / pool
 * </pre>
 */
@Command(name = "memory", mixinStandardHelpOptions = true,
        description = "Memory per token of one live document: IceCache beside full F32 and F16 caches (1B attention shape).")
public final class MemoryCommand implements Callable<Integer> {

    private static final double MIB = 1024.0 * 1024.0;

    @Option(names = "--contexts", split = ",", defaultValue = "4096,16384,65536",
            description = "context lengths (default ${DEFAULT-VALUE})")
    int[] contexts;

    @Option(names = "--budget", defaultValue = "256", description = "resident tokens per sparse stream (default ${DEFAULT-VALUE})")
    int budget;

    @Option(names = "--shape", split = ",", defaultValue = "16,32,8,64",
            description = "layers,heads,kvHeads,headDim (default ${DEFAULT-VALUE}: Llama-3.2-1B)")
    int[] shape;

    @Option(names = "--page-format", defaultValue = "BF16", paramLabel = "F32|BF16",
            description = "IceCache's row format (default ${DEFAULT-VALUE})")
    PageFormat pageFormat;

    @Option(names = "--store", defaultValue = "MAPPED", paramLabel = "MAPPED|HEAP",
            description = "where IceCache keeps its pages: a memory-mapped file (MAPPED) or the heap (default ${DEFAULT-VALUE})")
    MemoryProbe.Store store;

    @Option(names = "--probe-heap", defaultValue = "4g", description = "-Xmx of each probe JVM (default ${DEFAULT-VALUE})")
    String probeHeap;

    @Option(names = "--out", defaultValue = "bench/results", description = "folder for CSV and PNG (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--markdown", paramLabel = "FILE", description = "append the result section to FILE, e.g. BENCHMARKS.md (default: none, only the CSV)")
    Path markdown;

    /**
     * One point; for computed rows every measured figure is -1.
     *
     * @param cache FULL_F32, FULL_F16 or ICECACHE
     * @param measured false for an arithmetic row
     */
    record Row(String cache, int context, boolean measured, long liveHeap, long rss, long rssAnon, long rssFile,
               long direct, long mapped, long rankingKeys, long nodeMetadata, long denseRows, long pool, long storeBytes,
               long chunkStateBytes, long sliceStateBytes, long sliceChangedBytes, long restoreNanos,
               long restoreBytesRead, long cellBytes) {

        /** The document's own bytes: live heap growth plus direct buffers (pages in a mapped file not included). */
        long documentBytes() {
            return liveHeap + direct;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (shape.length != 4) {
            throw new IllegalArgumentException("--shape needs 4 numbers layers,heads,kvHeads,headDim; got " + shape.length);
        }
        RunInfo info = RunInfo.now();
        long maxHeap = parseBytes(probeHeap);
        ProgressBar bar = ProgressBar.stderr(contexts.length * 2);
        List<Row> rows = new ArrayList<>();
        Path dir = Files.createTempDirectory("icecache-memory-");
        try {
            for (int context : contexts) {
                long fullBytes = fullBytes(context, 4);
                bar.show("FULL_F32 " + context);
                rows.add(fullBytes < maxHeap * 3 / 4 ? probe(MemoryProbe.Cache.FULL_F32, context, dir)
                        : computed("FULL_F32", context, fullBytes));
                bar.step("FULL_F32 " + context);
                rows.add(computed("FULL_F16", context, fullBytes(context, 2)));
                bar.show("ICECACHE " + context);
                rows.add(probe(MemoryProbe.Cache.ICECACHE, context, dir));
                bar.step("ICECACHE " + context);
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
        ResultTable table = table(rows);
        table.writeCsv(out.resolve("memory.csv"));
        plot(rows);
        String section = "\n## memory: memory per token of one live document against context length\n\n"
                + "- command: `bin/icecache bench memory --contexts " + join(contexts) + " --budget " + budget
                + " --shape " + join(shape) + " --page-format " + pageFormat + " --store " + store + " --probe-heap "
                + probeHeap + "`\n" + info.markdown()
                + "- measured rows: a fresh JVM (-Xmx" + probeHeap + ", serial GC that returns free heap) fills one cache"
                + " with synthetic rows; `heap` = live heap after a full GC minus the same reading before the cache,"
                + " `RSS` likewise (anon = heap, direct, native; file = mapped pages of the store);"
                + " IceCache pages live in a memory-mapped file (`store MiB`), off the heap as in the job;"
                + " the cache is snapshotted one chunk short of the context and after it, as the job does at an"
                + " element's end (`state per chunk`: pages written while prefilling the last "
                + SyntheticContext.CHUNK + " positions and by its snapshot, header and index cells),"
                + " then one 16-position decode slice and its snapshot (`state per slice`; `slice changed`: the page"
                + " rows in it whose bytes differ from the stored ones, plus cells never written before), then a restore from the"
                + " snapshots into a new cache (`restore s`, `restore MB read`: cells, header and the sink, window"
                + " and dense pages read); `state per token KB` = (store file + latest cells) / context, what"
                + " RocksDB would hold;"
                + " `Full F16` and Full F32 past the probe heap are computed (no JVM run)\n\n"
                + table.markdown() + "\nPlot: `bench/results/memory.png`.\n";
        System.out.print(section);
        if (markdown != null) {
            Files.writeString(markdown, section, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        return 0;
    }

    private long fullBytes(int context, int bytesPerValue) {
        return (long) bytesPerValue * 2 * shape[0] * shape[2] * shape[3] * context;
    }

    private static Row computed(String cache, int context, long bytes) {
        return new Row(cache, context, false, bytes, -1, -1, -1, 0, 0, 0, 0, bytes, 0, 0, -1, -1, -1, -1, -1, -1);
    }

    private Row probe(MemoryProbe.Cache cache, int context, Path dir) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx" + probeHeap, "-XX:+UseSerialGC", "-XX:MinHeapFreeRatio=5",
                "-XX:MaxHeapFreeRatio=10", "--add-modules", "jdk.incubator.vector", JavaRuntime.TRAP_LIMIT_FLAG, "-cp",
                System.getProperty("java.class.path"), MemoryProbe.class.getName(), cache.name(),
                String.valueOf(context), String.valueOf(budget), String.valueOf(shape[0]), String.valueOf(shape[1]),
                String.valueOf(shape[2]), String.valueOf(shape[3]), pageFormat.name(), store.name(), dir.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("memory probe " + cache + " context=" + context + " failed: "
                    + output.replace('\n', '|') + "; raise --probe-heap or lower the context");
        }
        return parse(output);
    }

    /** The probe line of a probe's output. */
    static Row parse(String output) {
        for (String line : output.split("\n")) {
            if (line.startsWith("probe ")) {
                String[] f = line.trim().split(" ");
                if (f.length != 20) {
                    throw new IllegalArgumentException("probe line has " + f.length + " fields, expected 20: " + line);
                }
                long[] v = new long[17];
                for (int i = 0; i < v.length; i++) {
                    v[i] = Long.parseLong(f[3 + i]);
                }
                return new Row(f[1], Integer.parseInt(f[2]), true, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8],
                        v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16]);
            }
        }
        throw new IllegalArgumentException("no 'probe ...' line in the probe's output: " + output.replace('\n', '|'));
    }

    static ResultTable table(List<Row> rows) {
        ResultTable t = new ResultTable("cache", "context", "measured", "heap per token KB", "rss per token KB",
                "heap MiB", "RSS MiB", "RSS anon MiB", "RSS file MiB", "direct MiB", "ranking keys MiB",
                "node metadata MiB", "dense rows MiB", "pool MiB", "store MiB", "state per token KB",
                "state per chunk MB", "state per slice MB", "slice changed MB", "restore s", "restore MB read");
        for (Row r : rows) {
            double perToken = 1024.0 * r.context();
            t.add(r.cache(), r.context(), r.measured() ? "yes" : "computed", r.documentBytes() / perToken,
                    r.measured() ? (Object) (r.rss() / perToken) : "-", r.liveHeap() / MIB, mib(r.rss()), mib(r.rssAnon()),
                    mib(r.rssFile()), r.direct() / MIB, r.rankingKeys() / MIB, r.nodeMetadata() / MIB,
                    r.denseRows() / MIB, r.pool() / MIB, r.storeBytes() / MIB,
                    r.cellBytes() < 0 ? "-" : (Object) ((r.storeBytes() + r.cellBytes()) / perToken),
                    mb(r.chunkStateBytes()), mb(r.sliceStateBytes()), mb(r.sliceChangedBytes()),
                    r.restoreNanos() < 0 ? "-" : (Object) (r.restoreNanos() / 1e9), mb(r.restoreBytesRead()));
        }
        return t;
    }

    private static Object mb(long bytes) {
        return bytes < 0 ? "-" : (Object) (bytes / 1e6);
    }

    private static Object mib(long bytes) {
        return bytes < 0 ? "-" : (Object) (bytes / MIB);
    }

    /** Bytes of a JVM size like 4g, 512m, 1024k or 4096. */
    static long parseBytes(String size) {
        String s = size.trim().toLowerCase(java.util.Locale.ROOT);
        long unit = switch (s.isEmpty() ? ' ' : s.charAt(s.length() - 1)) {
            case 'g' -> 1L << 30;
            case 'm' -> 1L << 20;
            case 'k' -> 1L << 10;
            default -> 1L;
        };
        String digits = unit == 1L ? s : s.substring(0, s.length() - 1);
        try {
            return Math.multiplyExact(Long.parseLong(digits), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("--probe-heap=" + size + " is not a JVM size such as 4g or 512m", e);
        }
    }

    private void plot(List<Row> rows) throws IOException {
        Map<String, List<Row>> by = new LinkedHashMap<>();
        for (Row r : rows) {
            by.computeIfAbsent(r.cache(), k -> new ArrayList<>()).add(r);
        }
        LinePlot plot = new LinePlot("Memory per token of one live document (1B attention shape)", "context (tokens)",
                "KB per token").logX();
        for (Map.Entry<String, List<Row>> e : by.entrySet()) {
            List<Row> rs = e.getValue();
            double[] x = new double[rs.size()];
            double[] heap = new double[rs.size()];
            for (int i = 0; i < rs.size(); i++) {
                x[i] = rs.get(i).context();
                heap[i] = rs.get(i).documentBytes() / (1024.0 * rs.get(i).context());
            }
            plot.series(e.getKey() + " heap", x, heap);
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
