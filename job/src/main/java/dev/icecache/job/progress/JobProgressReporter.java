package dev.icecache.job.progress;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongSupplier;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.Scheduled;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Progress of the embedded summarize job, from the decoder's {@code icecache.*} counters summed
 * over its subtasks: tokens prefilled and generated with their rates since the last report, and
 * documents finished. {@code icecache summarize} registers it on the mini-cluster it starts
 * ({@link #configure}); Flink calls {@link #report} every interval.
 */
public final class JobProgressReporter implements MetricReporter, Scheduled {

    private static final Logger LOG = LoggerFactory.getLogger(JobProgressReporter.class);

    /** Name of this reporter in the configuration keys. */
    public static final String NAME = "icecache-progress";
    /** Reporter option: true to redraw one line on stderr, false for INFO log lines. */
    static final String TERMINAL = "terminal";

    private final List<Counter> prefilled = new ArrayList<>();
    private final List<Counter> generated = new ArrayList<>();
    private final List<Counter> finished = new ArrayList<>();
    private final LongSupplier clock;
    private boolean terminal;
    private PrintStream err = System.err;
    private long lastNanos;
    private long lastPrefilled;
    private long lastGenerated;

    /** A reporter on the system clock. */
    public JobProgressReporter() {
        this(System::nanoTime);
    }

    JobProgressReporter(LongSupplier clock) {
        this.clock = clock;
        this.lastNanos = clock.getAsLong();
    }

    /**
     * The configuration keys that make a Flink job start this reporter.
     *
     * @param terminal draw a bar line on stderr rather than log lines
     * @param interval report interval, e.g. "5 s"
     */
    public static java.util.Map<String, String> configure(boolean terminal, String interval) {
        String prefix = "metrics.reporter." + NAME + ".";
        return java.util.Map.of(prefix + "factory.class", JobProgressReporterFactory.class.getName(),
                prefix + "interval", interval, prefix + TERMINAL, Boolean.toString(terminal));
    }

    @Override
    public void open(MetricConfig config) {
        terminal = Boolean.parseBoolean(config.getString(TERMINAL, "false"));
    }

    @Override
    public void close() {
        if (terminal) {
            err.println();
        }
    }

    @Override
    public synchronized void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
        if (metric instanceof Counter counter) {
            switch (name) {
                case "prefilledTokens" -> prefilled.add(counter);
                case "generatedTokens" -> generated.add(counter);
                case "documentsFinished" -> finished.add(counter);
                default -> { }
            }
        }
    }

    @Override
    public synchronized void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {
        // the sums keep counting what finished subtasks did
    }

    @Override
    public synchronized void report() {
        if (prefilled.isEmpty()) {
            return; // decoder not running yet
        }
        long now = clock.getAsLong();
        long p = sum(prefilled);
        long g = sum(generated);
        double seconds = Math.max((now - lastNanos) / 1e9, 1e-9);
        String line = line(p, (p - lastPrefilled) / seconds, g, (g - lastGenerated) / seconds, sum(finished));
        lastNanos = now;
        lastPrefilled = p;
        lastGenerated = g;
        if (terminal) {
            err.print("\r" + line);
            err.flush();
        } else {
            LOG.info("progress: {}", line);
        }
    }

    /** One progress line; rates are over the last interval. */
    static String line(long prefilledTokens, double prefillRate, long generatedTokens, double decodeRate, long documents) {
        return String.format(Locale.ROOT, "prefill %d tokens (%.1f tokens/s), decode %d tokens (%.1f tokens/s),"
                + " %d documents finished", prefilledTokens, prefillRate, generatedTokens, decodeRate, documents);
    }

    private static long sum(List<Counter> counters) {
        long s = 0;
        for (Counter c : counters) {
            s += c.getCount();
        }
        return s;
    }
}
