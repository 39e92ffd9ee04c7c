package dev.icecache.bench.speed;

import dev.icecache.kvcache.metrics.CacheCounters;
import dev.icecache.model.Session;

/**
 * Times single-token decode steps of a {@link Session} over a {@link TimedKvCache} and splits
 * each into index / moves / attention / append / model ({@link StepSplit}); greedy tokens.
 */
public final class DecodeTimer {

    private DecodeTimer() {
    }

    /**
     * Runs {@code warmup} unmeasured steps, then {@code steps} measured ones.
     *
     * @param metrics the paged cache's counters ({@link CacheCounters#NONE} for a cache without them: Full)
     * @return one split per measured step, in order
     */
    public static StepSplit[] run(Session session, TimedKvCache timed, CacheCounters metrics, int warmup, int steps) {
        if (warmup < 0 || steps < 1) {
            throw new IllegalArgumentException("warmup=" + warmup + " must be >= 0 and steps=" + steps + " >= 1");
        }
        StepSplit[] out = new StepSplit[steps];
        int token = 1;
        for (int i = -warmup; i < steps; i++) {
            long index0 = metrics.indexNanos();
            long moves0 = metrics.moveNanos();
            long attend0 = timed.attendNanos();
            long append0 = timed.appendNanos();
            long t0 = System.nanoTime();
            float[] logits = session.step(token);
            long total = System.nanoTime() - t0;
            token = argmax(logits);
            if (i >= 0) {
                long index = metrics.indexNanos() - index0;
                long moves = metrics.moveNanos() - moves0;
                long attention = Math.max(0, timed.attendNanos() - attend0 - index - moves);
                out[i] = new StepSplit(total, index, moves, attention, timed.appendNanos() - append0);
            }
        }
        return out;
    }

    /** The step whose total is the median (the lower middle one for an even count). */
    public static StepSplit medianStep(StepSplit[] steps) {
        StepSplit[] sorted = steps.clone();
        java.util.Arrays.sort(sorted, java.util.Comparator.comparingLong(StepSplit::total));
        return sorted[(sorted.length - 1) / 2];
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
