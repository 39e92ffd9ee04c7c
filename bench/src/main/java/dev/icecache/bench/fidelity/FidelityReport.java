package dev.icecache.bench.fidelity;

import java.util.List;
import java.util.Locale;

/**
 * Writes fidelity results as CSV (one row per (policy, budget); the first eight columns are
 * fixed by issue 3) and as a Markdown table.
 */
public final class FidelityReport {

    /** The CSV header; columns after {@code topk_recall} are extras. */
    public static final String CSV_HEADER = "policy,budget,top1_agreement,kl_mean,kl_p99,ppl_ratio,attention_recall,"
            + "topk_recall,positions,positions_over_budget,top1_over_budget,kl_mean_over_budget,kl_p99_over_budget,"
            + "ppl_ratio_over_budget,attention_recall_over_budget,topk_recall_over_budget,rows_useful,"
            + "pages_moved_per_step,resident_hit_rate,topk,seconds";

    private FidelityReport() {
    }

    /** The CSV text: header and one line per result, '\n' line ends. */
    public static String csv(List<FidelityResult> results, int topK) {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        for (FidelityResult r : results) {
            FidelityMetrics a = r.all();
            FidelityMetrics o = r.overBudget();
            sb.append(r.policy()).append(',').append(r.budgetTokens());
            for (double v : new double[] {a.top1Agreement(), a.klMean(), a.klP99(), a.pplRatio(), a.attentionRecall(),
                a.topKRecall()}) {
                sb.append(',').append(number(v));
            }
            sb.append(',').append(a.positions()).append(',').append(o.positions());
            for (double v : new double[] {o.top1Agreement(), o.klMean(), o.klP99(), o.pplRatio(), o.attentionRecall(),
                o.topKRecall(), r.rowsUseful(), r.pagesMovedPerStep(), r.residentHitRate()}) {
                sb.append(',').append(number(v));
            }
            sb.append(',').append(topK).append(',').append(String.format(Locale.ROOT, "%.2f", r.seconds())).append('\n');
        }
        return sb.toString();
    }

    /** The Markdown table (header, separator, one line per result). */
    public static String markdownTable(List<FidelityResult> results, int topK) {
        StringBuilder sb = new StringBuilder();
        sb.append("| policy | budget | top-1 | KL mean | KL p99 | ppl ratio | attn recall | top-").append(topK)
                .append(" recall | positions > budget | top-1 > budget | KL mean > budget | rows useful | pages moved/step |\n");
        sb.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (FidelityResult r : results) {
            FidelityMetrics a = r.all();
            FidelityMetrics o = r.overBudget();
            sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s | %s | %d | %s | %s | %s | %s |%n",
                    r.policy(), r.budgetTokens(), percent(a.top1Agreement()), kl(a.klMean()), kl(a.klP99()),
                    fixed(a.pplRatio(), 4), percent(a.attentionRecall()), percent(a.topKRecall()), o.positions(),
                    percent(o.top1Agreement()), kl(o.klMean()), percent(r.rowsUseful()), fixed(r.pagesMovedPerStep(), 2)));
        }
        return sb.toString();
    }

    /** The Markdown bullets defining the diagnosis columns (issue 18). */
    public static String diagnosisNote(int topK, int headDim) {
        return "\n**Page diagnosis** (`--diagnose`, head size " + headDim + "): *own oracle* = attention recall when the"
                + " retrieved slots hold the policy's OWN pages with the highest exact attention mass (per query head,"
                + " merged rank by rank as the selectors merge; semantic pages for IceCache, positional for the"
                + " others); *pos oracle* = the same over positional pages (16 neighbouring tokens) at the same budget;"
                + " *top-" + topK + " in 1 page* = share of the index region's exact top-" + topK + " in the page holding"
                + " most of it, and *pages* = how many pages hold it (own / positional); *spread* = mean squared distance"
                + " of a page's keys to its centroid over that of all indexed keys, at the end of the run (own /"
                + " positional; lower = purer); *semantic slots* = share of IceCache's selected pages that were tree"
                + " (semantic) pages rather than recent positional pages.\n\n";
    }

    /** The diagnosis table: one line per result that has a diagnosis. */
    public static String diagnosisTable(List<FidelityResult> results, int topK) {
        StringBuilder sb = new StringBuilder();
        sb.append("| policy | budget | semantic slots | attn recall | own oracle | pos oracle | top-").append(topK)
                .append(" in 1 page own / pos | pages own / pos | spread own / pos |\n");
        sb.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (FidelityResult r : results) {
            if (r.diagnosis() != null) {
                sb.append(diagnosisRow(r.policy() + " | " + r.budgetTokens() + " | " + percent(r.semanticShare()) + " | "
                                + percent(r.all().attentionRecall()),
                        r.diagnosis().all()));
            }
        }
        return sb.toString();
    }

    /** The diagnosis by sparse (layer, KV head) of every result that has one. */
    public static String diagnosisByStream(List<FidelityResult> results, int layers, int kvHeads) {
        StringBuilder sb = new StringBuilder();
        sb.append("| policy | budget | layer | KV head | own oracle | pos oracle | top-k in 1 page own / pos |")
                .append(" pages own / pos | spread own / pos |\n");
        sb.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (FidelityResult r : results) {
            PageDiagnosis d = r.diagnosis();
            if (d == null) {
                continue;
            }
            for (int l = d.firstSparseLayer(); l < layers; l++) {
                for (int h = 0; h < kvHeads; h++) {
                    sb.append(diagnosisRow(r.policy() + " | " + r.budgetTokens() + " | " + l + " | " + h, d.stream(l, h)));
                }
            }
        }
        return sb.toString();
    }

    private static String diagnosisRow(String lead, PageDiagnosis.Totals t) {
        return String.format(Locale.ROOT, "| %s | %s | %s | %s / %s | %s / %s | %s / %s |%n", lead,
                percent(t.ownOracleRecall()), percent(t.positionalOracleRecall()), percent(t.ownTopKInOnePage()),
                percent(t.positionalTopKInOnePage()), fixed(t.ownPagesSpanned(), 1), fixed(t.positionalPagesSpanned(), 1),
                fixed(t.ownSpread(), 2), fixed(t.positionalSpread(), 2));
    }

    /** One result as the progress line printed after its run. */
    public static String progressLine(FidelityResult r) {
        FidelityMetrics a = r.all();
        return String.format(Locale.ROOT, "fidelity %s@%d: top1=%s kl_mean=%s ppl_ratio=%s attention_recall=%s "
                        + "topk_recall=%s rows_useful=%s moved=%s%s (%d positions, %d over budget; %.1f s)", r.policy(),
                r.budgetTokens(), percent(a.top1Agreement()), kl(a.klMean()), fixed(a.pplRatio(), 4),
                percent(a.attentionRecall()), percent(a.topKRecall()), percent(r.rowsUseful()),
                fixed(r.pagesMovedPerStep(), 2), Double.isNaN(r.semanticShare()) ? "" : " semantic=" + percent(r.semanticShare()),
                a.positions(), r.overBudget().positions(), r.seconds());
    }

    private static String number(double v) {
        return Double.isNaN(v) ? "NaN" : String.format(Locale.ROOT, "%.6g", v);
    }

    private static String percent(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.2f%%", 100 * v);
    }

    private static String kl(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.2e", v);
    }

    private static String fixed(double v, int digits) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%." + digits + "f", v);
    }
}
