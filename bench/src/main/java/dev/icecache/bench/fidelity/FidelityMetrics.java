package dev.icecache.bench.fidelity;

/**
 * The fidelity metrics of one (policy, budget) run over a set of positions (evaluation.md).
 *
 * @param positions positions compared
 * @param top1Agreement share of positions whose argmax equals the full cache's
 * @param klMean mean KL(p_full || p_policy)
 * @param klP99 99th percentile (nearest rank) of the per-position KL
 * @param pplRatio perplexity of the policy over the full cache's on the true next tokens
 * @param attentionRecall mean share of the full softmax mass on the attended positions (sparse layers)
 * @param topKRecall mean |exact top-k intersect attended| / k (sparse layers)
 */
public record FidelityMetrics(long positions, double top1Agreement, double klMean, double klP99, double pplRatio,
                              double attentionRecall, double topKRecall) {

    /** The metrics of a logit comparison and the recall totals of the same positions. */
    static FidelityMetrics of(LogitComparison logits, RecallTotals recall) {
        if (logits.positions() == 0) {
            return new FidelityMetrics(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        return new FidelityMetrics(logits.positions(), logits.top1Agreement(), logits.klMean(), logits.klP99(),
                logits.pplRatio(), recall.attentionRecall(), recall.topKRecall());
    }
}
