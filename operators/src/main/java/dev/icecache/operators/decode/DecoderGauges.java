package dev.icecache.operators.decode;

import dev.icecache.kvcache.metrics.CacheCounters;

import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;

/**
 * The decoder subtask's gauges, beside its counters in the {@code icecache} metric group: what
 * the KV cache did per step and where the decoder's time went, over every document this subtask
 * has prefilled or decoded since it started.
 *
 * <pre>
 *   pagesMovedPerStep       pages fetched into the resident pool per sparse attend step
 *   residentHitRate         share of selected pages already resident (1 before any selection)
 *   indexTimeShare          share of the decoder's busy time spent selecting pages
 *   moveTimeShare           ... planning and moving pages
 *   attentionTimeShare      ... attending over the selected pages
 *   prefillTokensPerSecond  prompt tokens per second of prefill work
 *   decodeTokensPerSecond   generated tokens per second of decode work
 * </pre>
 *
 * The decoder calls {@link #begin} before a prefill or decode call and {@link #endPrefill} or
 * {@link #endDecode} after it; the differences of the document's {@link CacheCounters} across the
 * call are added up, so documents restored from state (whose metrics hold their earlier steps)
 * count only what this subtask did. Busy time is the time inside those calls.
 */
public final class DecoderGauges {

    private long steps;
    private long pagesSelected;
    private long residentHits;
    private long pagesMoved;
    private long indexNanos;
    private long moveNanos;
    private long attentionNanos;
    private long prefillTokens;
    private long prefillNanos;
    private long decodeTokens;
    private long decodeNanos;

    private CacheCounters open = CacheCounters.NONE;
    private long openSteps;
    private long openSelected;
    private long openHits;
    private long openMoved;
    private long openIndex;
    private long openMove;
    private long openAttention;
    private long openAt;

    /** Registers the gauges in {@code group} and returns them. */
    public static DecoderGauges register(MetricGroup group) {
        DecoderGauges g = new DecoderGauges();
        group.gauge("pagesMovedPerStep", (Gauge<Double>) g::pagesMovedPerStep);
        group.gauge("residentHitRate", (Gauge<Double>) g::residentHitRate);
        group.gauge("indexTimeShare", (Gauge<Double>) g::indexTimeShare);
        group.gauge("moveTimeShare", (Gauge<Double>) g::moveTimeShare);
        group.gauge("attentionTimeShare", (Gauge<Double>) g::attentionTimeShare);
        group.gauge("prefillTokensPerSecond", (Gauge<Double>) g::prefillTokensPerSecond);
        group.gauge("decodeTokensPerSecond", (Gauge<Double>) g::decodeTokensPerSecond);
        return g;
    }

    /**
     * Marks the start of a prefill or decode call.
     *
     * @param metrics the document cache's counters ({@link CacheCounters#NONE} when it keeps none: FULL)
     * @param nanos {@link System#nanoTime()} now
     */
    public void begin(CacheCounters metrics, long nanos) {
        open = metrics;
        openAt = nanos;
        openSteps = metrics.steps();
        openSelected = metrics.pagesSelected();
        openHits = metrics.residentHits();
        openMoved = metrics.pagesMoved();
        openIndex = metrics.indexNanos();
        openMove = metrics.moveNanos();
        openAttention = metrics.attentionNanos();
    }

    /** Ends a prefill call that took {@code tokens} prompt tokens; {@code nanos} is now. */
    public void endPrefill(int tokens, long nanos) {
        prefillTokens += tokens;
        prefillNanos += nanos - openAt;
        addCacheWork();
    }

    /** Ends a decode call that generated {@code tokens}; {@code nanos} is now. */
    public void endDecode(int tokens, long nanos) {
        decodeTokens += tokens;
        decodeNanos += nanos - openAt;
        addCacheWork();
    }

    private void addCacheWork() {
        CacheCounters m = open;
        open = CacheCounters.NONE;
        steps += m.steps() - openSteps;
        pagesSelected += m.pagesSelected() - openSelected;
        residentHits += m.residentHits() - openHits;
        pagesMoved += m.pagesMoved() - openMoved;
        indexNanos += m.indexNanos() - openIndex;
        moveNanos += m.moveNanos() - openMove;
        attentionNanos += m.attentionNanos() - openAttention;
    }

    double pagesMovedPerStep() {
        return steps == 0 ? 0.0 : (double) pagesMoved / steps;
    }

    double residentHitRate() {
        return pagesSelected == 0 ? 1.0 : (double) residentHits / pagesSelected;
    }

    double indexTimeShare() {
        return share(indexNanos);
    }

    double moveTimeShare() {
        return share(moveNanos);
    }

    double attentionTimeShare() {
        return share(attentionNanos);
    }

    double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0.0 : prefillTokens / (prefillNanos / 1e9);
    }

    double decodeTokensPerSecond() {
        return decodeNanos == 0 ? 0.0 : decodeTokens / (decodeNanos / 1e9);
    }

    private double share(long nanos) {
        long busy = prefillNanos + decodeNanos;
        return busy == 0 ? 0.0 : Math.min(1.0, (double) nanos / busy);
    }
}
