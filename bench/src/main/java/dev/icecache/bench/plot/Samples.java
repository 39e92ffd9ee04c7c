package dev.icecache.bench.plot;

import java.util.Arrays;

/** Order statistics of a handful of timings: benchmarks report medians (issue 5 "Acceptance"). */
public final class Samples {

    private Samples() {
    }

    /**
     * The median of {@code values[0..n)}: the middle value, or the mean of the middle two for an even n.
     *
     * @throws IllegalArgumentException when n is not in [1, values.length]
     */
    public static double median(double[] values, int n) {
        if (n < 1 || n > values.length) {
            throw new IllegalArgumentException("median of n=" + n + " values needs 1 <= n <= " + values.length);
        }
        double[] sorted = Arrays.copyOf(values, n);
        Arrays.sort(sorted);
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** The median of all of {@code values}. */
    public static double median(double[] values) {
        return median(values, values.length);
    }

    /** The median of {@code values[0..n)} of longs (nanoseconds, counts). */
    public static double median(long[] values, int n) {
        if (n < 1 || n > values.length) {
            throw new IllegalArgumentException("median of n=" + n + " values needs 1 <= n <= " + values.length);
        }
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = values[i];
        }
        return median(d, n);
    }
}
