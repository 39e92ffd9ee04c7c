package dev.icecache.bench.retrieval;

import dev.icecache.bench.plot.LinePlot;
import dev.icecache.bench.plot.ResultTable;
import dev.icecache.kvcache.policy.Policy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Writes a {@link RetrievalTally} as CSV (one line per cell), as a Markdown pivot (rows policy x
 * budget, columns per depth, length and key count) and as PNG plots of the fetch rate against
 * depth, one per budget.
 */
public final class RetrievalReport {

    /** The CSV header. */
    public static final String[] CSV_COLUMNS = {"policy", "budget", "length", "depth", "keys", "trials", "exact_match",
        "agree_full", "fetch_rate", "fetched_all", "full_needle_mass"};

    private final RetrievalTally tally;
    private final List<Policy> policies;
    private final List<Integer> budgets;
    private final List<Integer> lengths;
    private final List<Integer> depths;
    private final List<Integer> keys;

    /**
     * @param policies policies to report (FULL among them or not), in table order
     * @param budgets budgets in tokens, in table order
     */
    public RetrievalReport(RetrievalTally tally, List<Policy> policies, List<Integer> budgets, List<Integer> lengths,
                           List<Integer> depths, List<Integer> keys) {
        this.tally = tally;
        this.policies = List.copyOf(policies);
        this.budgets = List.copyOf(budgets);
        this.lengths = List.copyOf(lengths);
        this.depths = List.copyOf(depths);
        this.keys = List.copyOf(keys);
    }

    /** One CSV line per reported cell; FULL's budget is {@link RetrievalTally#ANY_BUDGET}. */
    public ResultTable csvTable() {
        ResultTable t = new ResultTable(CSV_COLUMNS);
        for (RetrievalTally.Cell c : tally.cells()) {
            if (!policies.contains(c.policy())) {
                continue;
            }
            RetrievalTally.Sums s = tally.get(c);
            t.add(c.policy(), c.budget(), c.length(), c.depth(), c.keys(), s.trials(), fraction(s.exactRate()),
                    fraction(s.agreeRate()), fraction(s.fetchRate()), fraction(s.fetchedAllRate()),
                    fraction(s.fullMassMean()));
        }
        return t;
    }

    /**
     * The Markdown table: per policy and budget, exact match, agreement with Full and the fetch
     * rate pooled over everything, then the fetch rate per depth, per length and per key count,
     * then the share of streams that fetched the whole value.
     */
    public String markdownTable() {
        List<String> header = new ArrayList<>(List.of("policy", "budget", "exact", "= Full", "fetch"));
        for (int d : depths) {
            header.add("depth " + d + "%");
        }
        for (int l : lengths) {
            header.add(l + " tok");
        }
        for (int k : keys) {
            header.add(k == 1 ? "passkey" : k + " keys");
        }
        header.add("fetched all");
        ResultTable t = new ResultTable(header.toArray(new String[0]));
        for (Policy p : policies) {
            for (int b : p == Policy.FULL ? List.of(RetrievalTally.ANY_BUDGET) : budgets) {
                List<Object> row = new ArrayList<>();
                RetrievalTally.Sums all = tally.pooled(c -> c.policy() == p && c.budget() == b);
                row.add(p);
                row.add(b == RetrievalTally.ANY_BUDGET ? "all" : Integer.toString(b));
                row.add(percent(all.exactRate()));
                row.add(percent(all.agreeRate()));
                row.add(percent(all.fetchRate()));
                for (int d : depths) {
                    row.add(percent(tally.pooled(c -> c.policy() == p && c.budget() == b && c.depth() == d).fetchRate()));
                }
                for (int l : lengths) {
                    row.add(percent(tally.pooled(c -> c.policy() == p && c.budget() == b && c.length() == l).fetchRate()));
                }
                for (int k : keys) {
                    row.add(percent(tally.pooled(c -> c.policy() == p && c.budget() == b && c.keys() == k).fetchRate()));
                }
                row.add(percent(all.fetchedAllRate()));
                t.add(row.toArray());
            }
        }
        return t.markdown();
    }

    /** The full cache's needle mass per depth, one Markdown line (context for the fetch rates). */
    public String fullMassLine() {
        StringBuilder sb = new StringBuilder("- attention mass on the value under Full (exact softmax share, sparse"
                + " layers, mean over query heads and trials): ");
        for (int i = 0; i < depths.size(); i++) {
            int d = depths.get(i);
            RetrievalTally.Sums s = tally.pooled(c -> c.policy() == Policy.FULL && c.depth() == d);
            sb.append(i == 0 ? "" : ", ").append("depth ").append(d).append("%: ").append(percent(s.fullMassMean()));
        }
        return sb.append('\n').toString();
    }

    /**
     * Writes one PNG per budget, {@code <stem>-fetch-<budget>.png} in {@code dir}: the fetch rate
     * against depth, one series per reported policy, pooled over lengths and key counts.
     *
     * @return the files written
     */
    public List<Path> writePlots(Path dir, String stem) throws IOException {
        List<Path> files = new ArrayList<>();
        for (int b : budgets) {
            LinePlot plot = new LinePlot("Needle fetch rate at the first answer step, budget " + b + " tokens",
                    "depth of the needle (% of the body)", "fetch rate (share of value positions attended)");
            double[] x = new double[depths.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = depths.get(i);
            }
            for (Policy p : policies) {
                int budget = p == Policy.FULL ? RetrievalTally.ANY_BUDGET : b;
                double[] y = new double[depths.size()];
                for (int i = 0; i < y.length; i++) {
                    int d = depths.get(i);
                    y[i] = tally.pooled(c -> c.policy() == p && c.budget() == budget && c.depth() == d).fetchRate();
                }
                plot.series(p.name(), x, y);
            }
            Path file = dir.resolve(stem + "-fetch-" + b + ".png");
            plot.savePng(file);
            files.add(file);
        }
        return files;
    }

    private static String fraction(double v) {
        return Double.isNaN(v) ? "NaN" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String percent(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }
}
