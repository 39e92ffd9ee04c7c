package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.AllocationWindows;
import dev.icecache.kvcache.FreshJvm;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The cost of one query with default parameters at n = 32k: exact dot products as a share of n
 * (the reference scores a few percent to a few tens of percent of the keys), and no allocation
 * per call after warm-up (style.md: nothing allocated per token in selectors).
 */
class SearchCostTest {

    private static final int D = 64;
    private static final int N = 32_768;

    @Test
    void shouldScoreASmallShareOfKeysWithoutAllocating() throws Exception {
        // measured in a JVM of its own (FreshJvm says why); it prints "share allocated"
        String[] result = FreshJvm.lastLine(SearchCostTest.class).split(" ");
        double share = Double.parseDouble(result[0]);
        long allocated = Long.parseLong(result[1]);
        assertTrue(share > 0 && share < 0.2, "exact dot share=" + share + " should be well below a full scan");
        assertTrue(allocated < 4096, "search allocated " + allocated + " bytes over 200"
                + " queries in the quietest window after warm-up");
    }

    /** The measuring JVM: prints the line of figures, then "share allocated". */
    public static void main(String[] args) {
        SplittableRandom rnd = new SplittableRandom(32);
        float[] keys = TreeKeys.clustered(N, D, rnd);
        DciTree tree = new DciTree(D, DciParams.defaults(), new Projection(D, rnd.split()));
        tree.add(keys, 0, TreeKeys.positions(N, 0), 0, N);
        int queries = 200;
        float[][] q = new float[queries][];
        for (int i = 0; i < queries; i++) {
            q[i] = TreeKeys.queryNear(keys, N, D, rnd);
        }
        int[] pages = new int[12];
        float[] scores = new float[12];
        SearchStats warm = new SearchStats();
        for (float[] row : q) {
            tree.search(row, 0, 12, pages, scores, warm);
        }
        SearchStats stats = new SearchStats();
        for (float[] row : q) {
            tree.search(row, 0, 12, pages, scores, stats);
        }
        double share = (double) stats.exactDots / ((double) queries * N);
        SearchStats more = new SearchStats();
        long allocated = AllocationWindows.fewestBytes(() -> {
            for (float[] row : q) {
                tree.search(row, 0, 12, pages, scores, more);
            }
        }, 30);
        System.out.printf("n=%d d=%d default params: %.1f exact dots per query = %.2f%% of n; %d bytes allocated over %d queries%n",
                N, D, stats.exactDots / (double) queries, 100 * share, allocated, queries);
        if (stats.queries != queries) {
            throw new IllegalStateException("counted " + stats.queries + " queries, ran " + queries);
        }
        System.out.println(share + " " + allocated);
    }
}
