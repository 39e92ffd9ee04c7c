package dev.icecache.bench.speed;

/**
 * Where one decode step's time went, in nanoseconds.
 *
 * <pre>
 *   total      the whole step (forward pass of one token, logits included)
 *   index      selecting pages (index query; CacheMetrics.indexNanos)
 *   moves      planning and moving pages into the resident pool (CacheMetrics.moveNanos)
 *   attention  the rest of attend: gathering rows and attention itself, dense layers included
 *   append     storing the new K/V rows (and, every 16th token, inserting a page into the index)
 *   model      total - index - moves - attention - append: matrix products, norms, RoPE, logits
 * </pre>
 */
public record StepSplit(long total, long index, long moves, long attention, long append) {

    public StepSplit {
        if (total < 0 || index < 0 || moves < 0 || attention < 0 || append < 0) {
            throw new IllegalArgumentException("negative time in " + "total=" + total + " index=" + index + " moves="
                    + moves + " attention=" + attention + " append=" + append);
        }
    }

    /** Nanoseconds outside the cache. */
    public long model() {
        return Math.max(0, total - index - moves - attention - append);
    }

    /** Tokens per second of this step. */
    public double tokensPerSecond() {
        return total == 0 ? Double.POSITIVE_INFINITY : 1e9 / total;
    }
}
