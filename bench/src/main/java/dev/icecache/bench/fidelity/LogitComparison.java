package dev.icecache.bench.fidelity;

import java.util.Arrays;

/**
 * Accumulates the logit-level fidelity metrics of evaluation.md for one (policy, budget) run,
 * teacher-forced against the full cache at the same positions.
 *
 * <pre>
 *   top-1 agreement  share of positions whose argmax equals the full cache's
 *   KL               KL(p_full || p_policy) of next-token distributions: mean and p99
 *   ppl ratio        exp(mean NLL_policy(next)) / exp(mean NLL_full(next))
 * </pre>
 * All arithmetic in double; logits are not modified.
 */
public final class LogitComparison {

    private long positions;
    private long agreements;
    private double nllFull;
    private double nllPolicy;
    private double[] kls = new double[64];

    /**
     * Adds one position.
     *
     * @param full logits of the full cache
     * @param policy logits of the policy under test (same length)
     * @param next the true next token (teacher forcing), or -1 at the last position
     */
    public void add(float[] full, float[] policy, int next) {
        if (full.length != policy.length) {
            throw new IllegalArgumentException("logit lengths differ: full=" + full.length + " policy=" + policy.length);
        }
        double lzFull = logSumExp(full);
        double lzPolicy = logSumExp(policy);
        double kl = 0;
        for (int i = 0; i < full.length; i++) {
            double lpf = full[i] - lzFull;
            double lpp = policy[i] - lzPolicy;
            kl += Math.exp(lpf) * (lpf - lpp);
        }
        if (positions == kls.length) {
            kls = Arrays.copyOf(kls, kls.length * 2);
        }
        kls[(int) positions] = Math.max(0, kl); // rounding can give -1e-17
        positions++;
        if (argmax(full) == argmax(policy)) {
            agreements++;
        }
        if (next >= 0) {
            nllFull += lzFull - full[next];
            nllPolicy += lzPolicy - policy[next];
        }
    }

    public long positions() {
        return positions;
    }

    public double top1Agreement() {
        return positions == 0 ? Double.NaN : (double) agreements / positions;
    }

    public double klMean() {
        double s = 0;
        for (int i = 0; i < positions; i++) {
            s += kls[i];
        }
        return positions == 0 ? Double.NaN : s / positions;
    }

    /** The 99th percentile of per-position KL (nearest rank). */
    public double klP99() {
        if (positions == 0) {
            return Double.NaN;
        }
        double[] sorted = Arrays.copyOf(kls, (int) positions);
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(0.99 * sorted.length) - 1;
        return sorted[Math.max(0, rank)];
    }

    /** Perplexity of the policy over perplexity of the full cache on the true next tokens. */
    public double pplRatio() {
        return Math.exp((nllPolicy - nllFull) / Math.max(1, positions));
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }

    static double logSumExp(float[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) {
            max = Math.max(max, v);
        }
        double s = 0;
        for (float v : x) {
            s += Math.exp(v - max);
        }
        return max + Math.log(s);
    }
}
