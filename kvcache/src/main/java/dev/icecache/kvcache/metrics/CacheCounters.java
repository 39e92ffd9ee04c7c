package dev.icecache.kvcache.metrics;

/**
 * What a paged cache did, as cumulative totals (read-only view of {@link CacheMetrics}): the one
 * interface the decoder's gauges and the benchmarks read. A step is one sparse {@code attend} (or
 * {@code attendBlock}) call of one layer, all its KV heads; times are wall-clock nanoseconds.
 * Readers take differences of two readings to measure a span of work.
 */
public interface CacheCounters {

    /** Counters of a cache that keeps none (the FULL policy): all zero. */
    CacheCounters NONE = Zero.COUNTERS;

    /** Sparse attend steps. */
    long steps();

    /** Pages chosen by the policy (all KV heads). */
    long pagesSelected();

    /** Selected pages already resident and unchanged. */
    long residentHits();

    /** Pages fetched from the store into the pool. */
    long pagesMoved();

    /** Bytes of the pages moved. */
    long bytesMoved();

    /** Exact query-key (or query-digest) dot products computed by the index. */
    long exactDots();

    /** Pages written to the store (window evictions, tree moves, flushes). */
    long pagesWritten();

    /** Nanoseconds selecting pages. */
    long indexNanos();

    /** Nanoseconds planning and moving pages into the pool. */
    long moveNanos();

    /** Nanoseconds attending over the gathered rows. */
    long attentionNanos();

    /** Share of selected pages that were already resident (1 when nothing was selected). */
    default double hitRate() {
        long selected = pagesSelected();
        return selected == 0 ? 1.0 : (double) residentHits() / selected;
    }

    /** The all-zero counters behind {@link #NONE} (immutable, unlike a {@link CacheMetrics}). */
    enum Zero implements CacheCounters {
        COUNTERS;

        @Override
        public long steps() {
            return 0;
        }

        @Override
        public long pagesSelected() {
            return 0;
        }

        @Override
        public long residentHits() {
            return 0;
        }

        @Override
        public long pagesMoved() {
            return 0;
        }

        @Override
        public long bytesMoved() {
            return 0;
        }

        @Override
        public long exactDots() {
            return 0;
        }

        @Override
        public long pagesWritten() {
            return 0;
        }

        @Override
        public long indexNanos() {
            return 0;
        }

        @Override
        public long moveNanos() {
            return 0;
        }

        @Override
        public long attentionNanos() {
            return 0;
        }
    }
}
