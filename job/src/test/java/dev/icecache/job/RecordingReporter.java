package dev.icecache.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;
import org.apache.flink.metrics.reporter.Scheduled;

/**
 * A Flink metric reporter for tests: keeps every metric of the {@code icecache} groups by name
 * (all subtasks, in this JVM), and with the option {@code file} writes, at each report, the sum
 * of each counter and the values of each gauge to that properties file (for a job in a child
 * JVM). Enabled by {@link #configure}.
 */
public final class RecordingReporter implements MetricReporter, Scheduled {

    private static final String NAME = "recording";
    private static final Map<String, List<Metric>> METRICS = new ConcurrentHashMap<>();

    private Path file;

    /** The keys that start this reporter on a cluster, reporting every {@code interval}. */
    static Map<String, String> configure(String interval, Path file) {
        Map<String, String> c = new TreeMap<>();
        c.put("metrics.reporter." + NAME + ".factory.class", Factory.class.getName());
        c.put("metrics.reporter." + NAME + ".interval", interval);
        if (file != null) {
            c.put("metrics.reporter." + NAME + ".file", file.toAbsolutePath().toString());
        }
        return c;
    }

    /** Forgets every metric seen so far (before a new job). */
    static void clear() {
        METRICS.clear();
    }

    /** The sum of the {@code icecache.<name>} counters of every subtask seen since {@link #clear()}. */
    static long counterSum(String name) {
        return sum(METRICS.getOrDefault(name, List.of()));
    }

    /** The current values of the {@code icecache.<name>} gauges, one per subtask. */
    static List<Object> gaugeValues(String name) {
        List<Object> values = new ArrayList<>();
        for (Metric m : METRICS.getOrDefault(name, List.of())) {
            if (m instanceof Gauge<?> g) {
                values.add(g.getValue());
            }
        }
        return values;
    }

    /** Reads a file written with the {@code file} option: name to value (counters summed). */
    static Map<String, String> read(Path file) throws IOException {
        Map<String, String> values = new TreeMap<>();
        if (Files.isRegularFile(file)) {
            Properties p = new Properties();
            try (var r = Files.newBufferedReader(file)) {
                p.load(r);
            }
            p.stringPropertyNames().forEach(k -> values.put(k, p.getProperty(k)));
        }
        return values;
    }

    @Override
    public void open(MetricConfig config) {
        String f = config.getString("file", null);
        file = f == null ? null : Path.of(f);
    }

    @Override
    public void close() {
        report();
    }

    @Override
    public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
        if (group.getMetricIdentifier(name).endsWith("icecache." + name)) {
            METRICS.computeIfAbsent(name, n -> new CopyOnWriteArrayList<>()).add(metric);
        }
    }

    @Override
    public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {
        // kept: the test reads what finished subtasks counted
    }

    @Override
    public synchronized void report() {
        if (file == null) {
            return;
        }
        Properties p = new Properties();
        for (var e : METRICS.entrySet()) {
            if (e.getValue().stream().allMatch(m -> m instanceof Counter)) {
                p.setProperty(e.getKey(), Long.toString(sum(e.getValue())));
            } else {
                p.setProperty(e.getKey(), gaugeValues(e.getKey()).toString());
            }
        }
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            try (var w = Files.newBufferedWriter(tmp)) {
                p.store(w, null);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long sum(List<Metric> metrics) {
        long s = 0;
        for (Metric m : metrics) {
            if (m instanceof Counter c) {
                s += c.getCount();
            }
        }
        return s;
    }

    /** Found by Flink through META-INF/services. */
    public static final class Factory implements MetricReporterFactory {
        @Override
        public MetricReporter createMetricReporter(java.util.Properties properties) {
            return new RecordingReporter();
        }
    }
}
