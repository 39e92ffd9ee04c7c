package dev.icecache.kvcache.metrics;

/**
 * Counters of one cache: the last step's values and cumulative totals (issue 3 "Metrics").
 * A step is one {@code attend} call of one sparse layer (all its KV heads). Plain mutable fields
 * written by the cache (and its snapshot restore); the engine, benchmarks and the Flink
 * operator's gauges read the totals through {@link CacheCounters}.
 *
 * <pre>
 *   pagesSelected   pages chosen by the policy (retrieved pages, all KV heads)
 *   residentHits    selected pages already resident and unchanged (not moved)
 *   pagesMoved      pages fetched from the store into the pool
 *   bytesMoved      bytes of those pages (float32 blocks)
 *   exactDots       exact query-key (or query-digest) dot products computed by the index
 *   indexNanos      time selecting pages;  moveNanos  time planning and moving;  attentionNanos  time attending
 * </pre>
 */
public final class CacheMetrics implements CacheCounters {

    /** Last step: pages selected. */
    public long stepPagesSelected;
    /** Last step: selected pages that stayed resident. */
    public long stepResidentHits;
    /** Last step: pages moved. */
    public long stepPagesMoved;
    /** Last step: bytes moved. */
    public long stepBytesMoved;
    /** Last step: exact dot products in the index. */
    public long stepExactDots;
    /** Last step: nanoseconds selecting. */
    public long stepIndexNanos;
    /** Last step: nanoseconds moving. */
    public long stepMoveNanos;
    /** Last step: nanoseconds attending. */
    public long stepAttentionNanos;

    /** Sparse attend steps so far. */
    public long steps;
    /** Total pages selected. */
    public long pagesSelected;
    /** Total resident hits. */
    public long residentHits;
    /** Total pages moved. */
    public long pagesMoved;
    /** Total bytes moved. */
    public long bytesMoved;
    /** Total exact dot products in the index. */
    public long exactDots;
    /** Total nanoseconds selecting. */
    public long indexNanos;
    /** Total nanoseconds moving. */
    public long moveNanos;
    /** Total nanoseconds attending. */
    public long attentionNanos;
    /** Pages written to the store (window evictions, tree moves, flushes). */
    public long pagesWritten;

    /** Zeroes the per-step fields before a step. */
    public void beginStep() {
        stepPagesSelected = 0;
        stepResidentHits = 0;
        stepPagesMoved = 0;
        stepBytesMoved = 0;
        stepExactDots = 0;
        stepIndexNanos = 0;
        stepMoveNanos = 0;
        stepAttentionNanos = 0;
    }

    /** Adds the per-step fields to the totals after a step. */
    public void endStep() {
        steps++;
        pagesSelected += stepPagesSelected;
        residentHits += stepResidentHits;
        pagesMoved += stepPagesMoved;
        bytesMoved += stepBytesMoved;
        exactDots += stepExactDots;
        indexNanos += stepIndexNanos;
        moveNanos += stepMoveNanos;
        attentionNanos += stepAttentionNanos;
    }

    /**
     * Ends a step whose selection, moves and attention were already counted in the step fields:
     * records its index dots and the three times, then adds the step to the totals.
     */
    public void endStep(long dots, long indexNanos, long moveNanos, long attentionNanos) {
        stepExactDots = dots;
        stepIndexNanos = indexNanos;
        stepMoveNanos = moveNanos;
        stepAttentionNanos = attentionNanos;
        endStep();
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public long pagesSelected() {
        return pagesSelected;
    }

    @Override
    public long residentHits() {
        return residentHits;
    }

    @Override
    public long pagesMoved() {
        return pagesMoved;
    }

    @Override
    public long bytesMoved() {
        return bytesMoved;
    }

    @Override
    public long exactDots() {
        return exactDots;
    }

    @Override
    public long pagesWritten() {
        return pagesWritten;
    }

    @Override
    public long indexNanos() {
        return indexNanos;
    }

    @Override
    public long moveNanos() {
        return moveNanos;
    }

    @Override
    public long attentionNanos() {
        return attentionNanos;
    }

    @Override
    public String toString() {
        return "CacheMetrics{steps=" + steps + ", pagesSelected=" + pagesSelected + ", residentHits=" + residentHits
                + ", pagesMoved=" + pagesMoved + ", bytesMoved=" + bytesMoved + ", exactDots=" + exactDots
                + ", indexNanos=" + indexNanos + ", moveNanos=" + moveNanos + ", attentionNanos=" + attentionNanos
                + ", pagesWritten=" + pagesWritten + "}";
    }
}
