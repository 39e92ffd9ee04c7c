package dev.icecache.job.progress;

import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Progress of one long phase (prefill, decode): position, tokens per second and, where known,
 * the resident hit rate. On a terminal it redraws one bar line in place; otherwise it emits a log
 * line at most once per interval, so long runs leave a readable trace without flooding the log.
 *
 * <pre>
 *   terminal:  prefill [##########----------]   512/1024 tokens   231.4 tokens/s   hit 0.83
 *   log:       prefill 512/1024 tokens, 231.4 tokens/s, resident hit rate 0.83
 * </pre>
 *
 * {@link #update} allocates nothing unless it emits, so it may sit in a per-token loop.
 */
public final class ProgressMeter {

    /** Width of the bar in characters. */
    static final int BAR_WIDTH = 20;

    private final boolean terminal;
    private final Consumer<String> sink;
    private final LongSupplier clock;
    private final long intervalNanos;

    private String phase = "";
    private long phaseStartNanos;
    private long lastEmitNanos;
    private boolean drawn;

    /**
     * @param terminal true to draw a bar redrawn with carriage returns, false for log lines
     * @param sink where each rendered line goes (a terminal sink prints without a newline)
     * @param clock nanosecond clock ({@link System#nanoTime} in production)
     * @param intervalNanos least time between two lines (the final line of a phase always shows)
     */
    public ProgressMeter(boolean terminal, Consumer<String> sink, LongSupplier clock, long intervalNanos) {
        if (intervalNanos < 0) {
            throw new IllegalArgumentException("intervalNanos=" + intervalNanos + " must be >= 0");
        }
        this.terminal = terminal;
        this.sink = sink;
        this.clock = clock;
        this.intervalNanos = intervalNanos;
    }

    /** Starts timing {@code name}; rates are measured from here. */
    public void startPhase(String name) {
        endLine();
        phase = name;
        phaseStartNanos = clock.getAsLong();
        lastEmitNanos = phaseStartNanos;
    }

    /**
     * Reports that {@code done} of {@code total} tokens of the current phase are through.
     *
     * @param total tokens the phase will process, or a value &lt;= 0 when unknown (no bar)
     * @param hitRate resident hit rate in [0, 1], or NaN when not known
     */
    public void update(long done, long total, double hitRate) {
        long now = clock.getAsLong();
        boolean last = total > 0 && done >= total;
        if (!last && now - lastEmitNanos < intervalNanos) {
            return;
        }
        lastEmitNanos = now;
        double seconds = (now - phaseStartNanos) / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        String line = terminal ? bar(phase, done, total, rate, hitRate) : logLine(phase, done, total, rate, hitRate);
        sink.accept(line);
        drawn = terminal;
    }

    /** Ends the bar's line on a terminal so later output starts on a fresh line. */
    public void endLine() {
        if (drawn) {
            sink.accept(System.lineSeparator());
            drawn = false;
        }
    }

    /** The terminal rendering, led by a carriage return so it overwrites the previous one. */
    static String bar(String phase, long done, long total, double rate, double hitRate) {
        StringBuilder b = new StringBuilder(96).append('\r').append(phase).append(' ');
        if (total > 0) {
            int filled = (int) Math.min(BAR_WIDTH, done * BAR_WIDTH / total);
            b.append('[').append("#".repeat(filled)).append("-".repeat(BAR_WIDTH - filled)).append("] ");
            b.append(String.format(Locale.ROOT, "%5d/%d tokens", done, total));
        } else {
            b.append(String.format(Locale.ROOT, "%d tokens", done));
        }
        b.append(String.format(Locale.ROOT, "  %.1f tokens/s", rate));
        if (!Double.isNaN(hitRate)) {
            b.append(String.format(Locale.ROOT, "  hit %.2f", hitRate));
        }
        return b.toString();
    }

    /** The log rendering: one self-contained line. */
    static String logLine(String phase, long done, long total, double rate, double hitRate) {
        StringBuilder b = new StringBuilder(80).append(phase).append(' ').append(done);
        if (total > 0) {
            b.append('/').append(total);
        }
        b.append(String.format(Locale.ROOT, " tokens, %.1f tokens/s", rate));
        if (!Double.isNaN(hitRate)) {
            b.append(String.format(Locale.ROOT, ", resident hit rate %.2f", hitRate));
        }
        return b.toString();
    }
}
