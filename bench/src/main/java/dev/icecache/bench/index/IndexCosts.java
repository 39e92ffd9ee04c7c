package dev.icecache.bench.index;

import dev.icecache.bench.plot.Samples;
import dev.icecache.bench.speed.SyntheticContext;
import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.kvcache.tree.DciTree;
import dev.icecache.kvcache.tree.Projection;
import dev.icecache.kvcache.tree.SearchStats;
import java.util.SplittableRandom;

/**
 * The costs of one {@link DciTree} (one layer and KV head) at n tokens of clustered synthetic
 * keys ({@link SyntheticContext}) (evaluation.md "Index costs").
 *
 * <pre>
 *   build      bulk build of an empty tree over n keys (prefill), per 1k tokens
 *   insert     one batch of 16 new tokens (a window page leaving the window, decode time)
 *   query      one search for one query head, retrievedPages pages
 *   dots       exact q.k products of one search, as a share of n
 *   recall     share of the pages an exhaustive float32 search picks (every page of the tree scored
 *              by its best q.k over the keys as given, in double) that the tree's search picks
 * </pre>
 * Every timing is the median of {@code repeats} runs; a fresh tree per build repeat.
 */
public final class IndexCosts {

    /** Rows per page and per insert batch. */
    public static final int BATCH = 16;

    /**
     * Costs at one size.
     *
     * @param tokens n, tokens indexed
     * @param buildNanosPer1k median bulk-build time per 1000 tokens
     * @param insertNanos median time of one 16-token batch insert
     * @param queryNanos median time of one search
     * @param dotsPerQuery mean exact dot products per search
     * @param pages live pages after the build
     * @param recall mean share of the exhaustive float32 search's pages that the search selects
     */
    public record Point(int tokens, double buildNanosPer1k, double insertNanos, double queryNanos, double dotsPerQuery,
                        int pages, double recall) {

        /** Exact dot products per search as a share of n. */
        public double dotShare() {
            return dotsPerQuery / tokens;
        }
    }

    private final int headDim;
    private final DciParams params;
    private final long seed;

    /** Costs of trees over keys of {@code headDim} floats with {@code params}. */
    public IndexCosts(int headDim, DciParams params, long seed) {
        this.headDim = headDim;
        this.params = params;
        this.seed = seed;
    }

    /**
     * Measures a tree of {@code tokens} keys.
     *
     * @param maxPages pages per search (the retrieved pages of the budget: 12 at 256 tokens)
     * @param queries searches per repeat (different queries)
     * @param inserts 16-token batches inserted per repeat
     */
    public Point measure(int tokens, int maxPages, int repeats, int queries, int inserts) {
        if (tokens < BATCH || repeats < 1 || queries < 1 || inserts < 1 || maxPages < 1) {
            throw new IllegalArgumentException("tokens=" + tokens + " repeats=" + repeats + " queries=" + queries
                    + " inserts=" + inserts + " maxPages=" + maxPages + ": need tokens >= 16 and the others >= 1");
        }
        int total = tokens + repeats * inserts * BATCH;
        SyntheticContext context = new SyntheticContext(new CacheShape(1, 1, 1, headDim, total), seed);
        float[] keys = new float[total * headDim];
        float[] unusedValues = new float[total * headDim];
        context.rows(0, 0, total, keys, unusedValues);
        int[] positions = new int[total];
        for (int i = 0; i < total; i++) {
            positions[i] = i;
        }
        double[] build = new double[repeats];
        DciTree tree = null;
        for (int r = 0; r < repeats; r++) {
            tree = newTree();
            long t0 = System.nanoTime();
            tree.add(keys, 0, positions, 0, tokens);
            build[r] = (System.nanoTime() - t0) * 1000.0 / tokens;
        }
        int pages = livePages(tree);
        double[] query = new double[repeats];
        SearchStats stats = new SearchStats();
        float[] row = new float[headDim];
        float[] q = new float[queries * repeats * headDim];
        for (int i = 0; i < queries * repeats; i++) {
            context.query(0, i, row);
            System.arraycopy(row, 0, q, i * headDim, headDim);
        }
        int[] outPages = new int[maxPages];
        float[] outScores = new float[maxPages];
        for (int r = 0; r < repeats; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < queries; i++) {
                tree.search(q, (r * queries + i) * headDim, maxPages, outPages, outScores, stats);
            }
            query[r] = (System.nanoTime() - t0) / (double) queries;
        }
        double recall = 0;
        for (int i = 0; i < queries; i++) {
            recall += recall(tree, keys, q, i * headDim, maxPages);
        }
        recall /= queries;
        double[] insert = new double[repeats * inserts];
        int next = tokens;
        for (int i = 0; i < insert.length; i++) {
            long t0 = System.nanoTime();
            tree.add(keys, next * headDim, positions, next, BATCH);
            insert[i] = System.nanoTime() - t0;
            next += BATCH;
        }
        return new Point(tokens, Samples.median(build), Samples.median(insert), Samples.median(query),
                (double) stats.exactDots / stats.queries, pages, recall);
    }

    /**
     * Share of the best {@code maxPages} pages under an exhaustive float32 search (each page scored
     * by the tree's page score over its rows' q.k with {@code keys}, token t's key at t * headDim,
     * summed in double; ties to the lower page id) that the tree's own search returns.
     */
    double recall(DciTree tree, float[] keys, float[] q, int qOff, int maxPages) {
        int[] got = new int[maxPages];
        int n = tree.search(q, qOff, maxPages, got, new float[maxPages], null);
        int limit = tree.pageIdLimit();
        double[] score = new double[limit];
        int[] tokens = new int[tree.pageCapacity()];
        Integer[] order = new Integer[limit];
        float[] rowScores = new float[tokens.length];
        for (int p = 0; p < limit; p++) {
            order[p] = p;
            int rows = tree.pageTokens(p, tokens);
            double best = Double.NEGATIVE_INFINITY;
            for (int r = 0; r < rows; r++) {
                double dot = 0;
                for (int d = 0; d < headDim; d++) {
                    dot += (double) q[qOff + d] * keys[tokens[r] * headDim + d];
                }
                best = Math.max(best, dot);
                rowScores[r] = (float) dot;
            }
            score[p] = rows == 0 ? Double.NEGATIVE_INFINITY
                    : params.pageScore().of(rowScores, rows, (float) best, headDim);
        }
        java.util.Arrays.sort(order, (a, b) -> score[a] != score[b] ? Double.compare(score[b], score[a])
                : Integer.compare(a, b));
        int want = Math.min(maxPages, limit);
        java.util.Set<Integer> exact = new java.util.HashSet<>();
        for (int i = 0; i < want; i++) {
            exact.add(order[i]);
        }
        int hit = 0;
        for (int i = 0; i < n; i++) {
            hit += exact.contains(got[i]) ? 1 : 0;
        }
        return want == 0 ? 1.0 : hit / (double) want;
    }

    private DciTree newTree() {
        return new DciTree(headDim, params, new Projection(headDim, new SplittableRandom(seed)));
    }

    private static int livePages(DciTree tree) {
        int live = 0;
        for (int p = 0; p < tree.pageIdLimit(); p++) {
            if (tree.pageSize(p) > 0) {
                live++;
            }
        }
        return live;
    }
}
