package dev.icecache.bench.plot;

import java.io.PrintStream;

/**
 * A one-line text progress bar on standard error for long benchmark runs
 * ({@code [#####.....] 12/40 ice 16k}); redrawn in place with a carriage return.
 */
public final class ProgressBar {

    private static final int WIDTH = 30;

    private final PrintStream out;
    private final int total;
    private int done;

    /** A bar for {@code total} steps written to {@code out}. */
    public ProgressBar(PrintStream out, int total) {
        if (total < 1) {
            throw new IllegalArgumentException("total=" + total + " steps must be >= 1");
        }
        this.out = out;
        this.total = total;
    }

    /** A bar on standard error. */
    public static ProgressBar stderr(int total) {
        return new ProgressBar(System.err, total);
    }

    /** Shows what runs now without advancing. */
    public void show(String label) {
        out.print("\r" + line(done, total, label));
        out.flush();
    }

    /** Advances by one step; ends the line after the last. */
    public void step(String label) {
        done = Math.min(total, done + 1);
        out.print("\r" + line(done, total, label) + (done == total ? "\n" : ""));
        out.flush();
    }

    /** The bar's text for {@code done} of {@code total} steps. */
    static String line(int done, int total, String label) {
        int filled = (int) ((long) WIDTH * done / total);
        return "[" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "] " + done + "/" + total + " " + label
                + "          ";
    }
}
