package dev.icecache.bench.fidelity;

import dev.icecache.kvcache.policy.Policy;

/**
 * One row of the fidelity table: a policy at a budget, teacher-forced against the full cache.
 *
 * @param policy the policy
 * @param budgetTokens resident tokens per (sparse layer, KV head)
 * @param all metrics over every position
 * @param overBudget metrics over the positions p with p + 1 &gt; budget only (where the policy must choose)
 * @param rowsUseful share of the rows of retrieved pages that are in the exact top-k of their KV
 *                   head's query heads; NaN when no page was retrieved
 * @param pagesMovedPerStep pages fetched from the store per sparse (layer, position) attend
 * @param residentHitRate selected pages already resident and unchanged / selected
 * @param seconds wall time of the run
 * @param diagnosis the page diagnosis of the run ({@code --diagnose}), else null
 * @param semanticShare IceCache: share of the selected pages that were tree (semantic) pages, not
 *                      recent positional ones; NaN for other policies
 */
public record FidelityResult(Policy policy, int budgetTokens, FidelityMetrics all, FidelityMetrics overBudget,
                             double rowsUseful, double pagesMovedPerStep, double residentHitRate, double seconds,
                             PageDiagnosis diagnosis, double semanticShare) {
}
