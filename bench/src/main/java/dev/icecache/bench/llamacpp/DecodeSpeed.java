package dev.icecache.bench.llamacpp;

import java.util.Arrays;

/**
 * Decode speeds of one engine, one figure per run.
 *
 * @param engine what ran ("icecache", "llama.cpp")
 * @param tokensPerSecond decode tokens per second of each measured run
 */
public record DecodeSpeed(String engine, double[] tokensPerSecond) {

    public DecodeSpeed {
        if (tokensPerSecond.length == 0) {
            throw new IllegalArgumentException(engine + ": no runs measured; --runs must be >= 1");
        }
        tokensPerSecond = tokensPerSecond.clone();
    }

    /** The median of the runs (mean of the middle two for an even count). */
    public double median() {
        double[] sorted = tokensPerSecond.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
