package dev.icecache.bench.speed;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A STREAM-like triad {@code a[i] = b[i] + s * c[i]} over three float arrays much larger than
 * the caches, split over threads; the machine's sustainable memory bandwidth, against which
 * decode (bound by reading weights and KV rows) is judged. Bytes counted as STREAM does:
 * 12 per element (two reads, one write; write-allocate traffic not counted).
 */
public final class MemoryBandwidth {

    private MemoryBandwidth() {
    }

    /**
     * Best bandwidth over {@code repeats} triads, in bytes per second.
     *
     * @param floats elements per array (e.g. 32M: 384 MB touched per triad)
     */
    public static double triad(int threads, int floats, int repeats) throws Exception {
        if (threads < 1 || floats < threads || repeats < 1) {
            throw new IllegalArgumentException("threads=" + threads + " floats=" + floats + " repeats=" + repeats
                    + ": need threads >= 1, floats >= threads, repeats >= 1");
        }
        float[] a = new float[floats];
        float[] b = new float[floats];
        float[] c = new float[floats];
        java.util.Arrays.fill(b, 1f);
        java.util.Arrays.fill(c, 2f);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            double best = 0;
            for (int r = 0; r <= repeats; r++) {
                long t0 = System.nanoTime();
                Future<?>[] parts = new Future<?>[threads];
                for (int t = 0; t < threads; t++) {
                    int from = (int) ((long) floats * t / threads);
                    int to = (int) ((long) floats * (t + 1) / threads);
                    parts[t] = pool.submit(() -> triad(a, b, c, 3f, from, to));
                }
                for (Future<?> f : parts) {
                    f.get();
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (r > 0) { // the first pass pages the arrays in
                    best = Math.max(best, 12.0 * floats / seconds);
                }
            }
            if (a[floats / 2] != 7f) {
                throw new IllegalStateException("triad produced " + a[floats / 2] + ", expected 7");
            }
            return best;
        } finally {
            pool.shutdownNow();
        }
    }

    static void triad(float[] a, float[] b, float[] c, float s, int from, int to) {
        for (int i = from; i < to; i++) {
            a[i] = b[i] + s * c[i];
        }
    }
}
