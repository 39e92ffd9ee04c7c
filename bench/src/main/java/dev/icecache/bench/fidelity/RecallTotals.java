package dev.icecache.bench.fidelity;

/**
 * Running sums of the attention-level fidelity metrics over (sparse layer, query head, position)
 * samples (evaluation.md):
 *
 * <pre>
 *   attention recall  mean over samples of  sum_{attended} softmax_i  (full softmax over all cached positions)
 *   top-k recall      mean over samples of  |exact top-k  intersect attended| / min(k, cached)
 *   rows useful       (rows of retrieved pages in some group head's exact top-k) / (rows of retrieved pages),
 *                     pooled over every sparse attend; NaN when no page was retrieved
 * </pre>
 */
public final class RecallTotals {

    private long samples;
    private double attentionMass;
    private double topKRecall;
    private long retrievedRows;
    private long usefulRows;

    void addHead(double mass, double topK) {
        samples++;
        attentionMass += mass;
        topKRecall += topK;
    }

    void addRetrieved(long rows, long useful) {
        retrievedRows += rows;
        usefulRows += useful;
    }

    /** (layer, query head, position) samples added. */
    public long samples() {
        return samples;
    }

    /** Mean share of the full softmax mass on the attended positions; NaN without samples. */
    public double attentionRecall() {
        return samples == 0 ? Double.NaN : attentionMass / samples;
    }

    /** Mean top-k token recall; NaN without samples. */
    public double topKRecall() {
        return samples == 0 ? Double.NaN : topKRecall / samples;
    }

    /** Rows of retrieved (index) pages counted. */
    public long retrievedRows() {
        return retrievedRows;
    }

    /** Share of retrieved pages' rows that are in the exact top-k; NaN when none was retrieved. */
    public double rowsUseful() {
        return retrievedRows == 0 ? Double.NaN : (double) usefulRows / retrievedRows;
    }
}
