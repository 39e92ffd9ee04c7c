package dev.icecache.bench.retrieval;

import dev.icecache.kvcache.policy.Policy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Running sums of the retrieval measures per (policy, budget, length, depth, keys) cell, in the
 * order cells were first seen. FULL ignores the budget and is run once per haystack: its cells
 * have budget {@link #ANY_BUDGET}.
 *
 * <pre>
 *   exact match   answer == the planted value's tokens
 *   agrees        answer == the full cache's answer to the same haystack
 *   fetch share   mean over sparse streams of the share of the value's positions attended
 *   fetched all   share of sparse streams that attended every value position
 *   full mass     the full cache's exact softmax share on the value (same for every policy of a haystack)
 * </pre>
 */
public final class RetrievalTally {

    /** Budget recorded for FULL, which attends everything whatever the budget. */
    public static final int ANY_BUDGET = 0;

    /**
     * One cell's coordinates.
     *
     * @param policy the policy
     * @param budget budget in tokens, {@link #ANY_BUDGET} for FULL
     * @param length prompt tokens
     * @param depth depth in percent
     * @param keys key sentences planted
     */
    public record Cell(Policy policy, int budget, int length, int depth, int keys) {
    }

    /**
     * The sums of one cell or of several pooled.
     *
     * @param trials haystacks counted
     * @param exact answers equal to the planted value
     * @param agrees answers equal to the full cache's
     * @param fetchShare sum over trials of the fetch share
     * @param fetchedAll sum over trials of the fetched-all share
     * @param fullMass sum over trials of the full cache's needle mass
     */
    public record Sums(int trials, int exact, int agrees, double fetchShare, double fetchedAll, double fullMass) {

        static final Sums ZERO = new Sums(0, 0, 0, 0, 0, 0);

        Sums plus(Sums o) {
            return new Sums(trials + o.trials, exact + o.exact, agrees + o.agrees, fetchShare + o.fetchShare,
                    fetchedAll + o.fetchedAll, fullMass + o.fullMass);
        }

        /** Share of exact matches; NaN without trials. */
        public double exactRate() {
            return trials == 0 ? Double.NaN : (double) exact / trials;
        }

        /** Share of answers equal to the full cache's; NaN without trials. */
        public double agreeRate() {
            return trials == 0 ? Double.NaN : (double) agrees / trials;
        }

        /** Mean fetch share; NaN without trials. */
        public double fetchRate() {
            return trials == 0 ? Double.NaN : fetchShare / trials;
        }

        /** Mean fetched-all share; NaN without trials. */
        public double fetchedAllRate() {
            return trials == 0 ? Double.NaN : fetchedAll / trials;
        }

        /** Mean needle mass under the full cache; NaN without trials. */
        public double fullMassMean() {
            return trials == 0 ? Double.NaN : fullMass / trials;
        }
    }

    private final Map<Cell, Sums> cells = new LinkedHashMap<>();

    /**
     * Adds one run.
     *
     * @param haystack the haystack run
     * @param attempt what the policy answered and fetched
     * @param fullAnswer the full cache's answer to the same haystack
     * @param fullMass the full cache's needle mass on the same haystack
     */
    public void add(Policy policy, int budget, Haystack haystack, RetrievalRun.Attempt attempt, int[] fullAnswer,
                    double fullMass) {
        Cell cell = new Cell(policy, policy == Policy.FULL ? ANY_BUDGET : budget, haystack.length(),
                haystack.depthPercent(), haystack.keys());
        Sums one = new Sums(1, Arrays.equals(attempt.answer(), haystack.answer()) ? 1 : 0,
                Arrays.equals(attempt.answer(), fullAnswer) ? 1 : 0, attempt.fetchShare(), attempt.fetchedAll(), fullMass);
        cells.merge(cell, one, Sums::plus);
    }

    /** The cells, in the order first added. */
    public List<Cell> cells() {
        return new ArrayList<>(cells.keySet());
    }

    /** The sums of one cell (zero when absent). */
    public Sums get(Cell cell) {
        return cells.getOrDefault(cell, Sums.ZERO);
    }

    /** The sums of every cell {@code filter} accepts, pooled. */
    public Sums pooled(Predicate<Cell> filter) {
        Sums total = Sums.ZERO;
        for (Map.Entry<Cell, Sums> e : cells.entrySet()) {
            if (filter.test(e.getKey())) {
                total = total.plus(e.getValue());
            }
        }
        return total;
    }
}
