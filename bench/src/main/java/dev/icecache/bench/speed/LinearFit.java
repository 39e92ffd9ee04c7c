package dev.icecache.bench.speed;

/**
 * An ordinary least-squares line y = intercept + slope * x, used to extrapolate llama.cpp's
 * decode latency to contexts whose prefill is too slow to measure here (its per-token cost is
 * the weights plus a KV read that grows linearly with the context).
 *
 * @param intercept y at x = 0
 * @param slope change of y per unit of x
 */
record LinearFit(double intercept, double slope) {

    /** The least-squares line through the points (x[i], y[i]); needs two distinct x values. */
    static LinearFit of(double[] x, double[] y) {
        if (x.length != y.length || x.length < 2) {
            throw new IllegalArgumentException("a line fit needs at least 2 points with one y per x; got x=" + x.length
                    + " y=" + y.length);
        }
        double mx = 0;
        double my = 0;
        for (int i = 0; i < x.length; i++) {
            mx += x[i];
            my += y[i];
        }
        mx /= x.length;
        my /= x.length;
        double sxx = 0;
        double sxy = 0;
        for (int i = 0; i < x.length; i++) {
            sxx += (x[i] - mx) * (x[i] - mx);
            sxy += (x[i] - mx) * (y[i] - my);
        }
        if (sxx == 0) {
            throw new IllegalArgumentException("a line fit needs at least 2 distinct x values; all are " + mx);
        }
        double slope = sxy / sxx;
        return new LinearFit(my - slope * mx, slope);
    }

    /** The line's y at {@code x}. */
    double at(double x) {
        return intercept + slope * x;
    }
}
