package dev.icecache.kvcache.tree;

import java.util.Arrays;

/**
 * The oracle of icecache.md "Sanity check": the exact best pages under the tree's page score
 * (the paper's "page score = best token score", or [ours] the page's attention mass, via
 * {@link PageScore#of}, itself checked against the formula in PageScoreTest), ties to the lower
 * page id, computed from the tree's page membership and the keys kept by the test (not the tree's
 * copies), quantized as the tree keeps them, with scores in the search's ranking order
 * ({@link RankingReference#compactDot}).
 */
final class BruteForce {

    private BruteForce() {
    }

    /** Fills pages/scores with the best maxPages pages; returns how many. */
    static int bestPages(DciTree tree, float[] keys, int firstToken, int d, float[] q, int maxPages,
                         int[] pages, float[] scores) {
        int limit = tree.pageIdLimit();
        float[] best = new float[limit];
        Integer[] live = new Integer[limit];
        int nLive = 0;
        int[] rows = new int[tree.pageCapacity()];
        float[] rowScores = new float[tree.pageCapacity()];
        for (int p = 0; p < limit; p++) {
            int size = tree.pageTokens(p, rows);
            if (size == 0) {
                continue;
            }
            float b = Float.NEGATIVE_INFINITY;
            for (int s = 0; s < size; s++) {
                float score = RankingReference.compactDot(q, 0, keys, (rows[s] - firstToken) * d, d);
                rowScores[s] = score;
                if (Float.compare(score, b) > 0) {
                    b = score;
                }
            }
            best[p] = tree.params().pageScore().of(rowScores, size, b, d);
            live[nLive++] = p;
        }
        Integer[] order = Arrays.copyOf(live, nLive);
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(best[b], best[a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int n = Math.min(maxPages, nLive);
        for (int i = 0; i < n; i++) {
            pages[i] = order[i];
            scores[i] = best[order[i]];
        }
        return n;
    }
}
