package dev.icecache.bench.fidelity;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.metrics.AttendedPositions;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.select.GqaMerge;
import dev.icecache.kvcache.select.PageSelector;
import java.util.Arrays;

/**
 * Separates page formation from page search (issue 18): at every sparse attend it asks what the
 * best possible choice among the policy's OWN pages would have covered, and what the best choice
 * among positional pages (16 neighbouring tokens) would have, at the same budget; and how the
 * query's exact top-k and the keys themselves are spread over both kinds of page.
 *
 * <pre>
 *   per (layer, KV head, position), query heads g of the group, w_g = exact softmax over 0..p:
 *     fixed_g        = w_g mass outside the index region [sinkTokens, windowStart) (sink, window, query)
 *     mass_g(page)   = sum of w_g over the page's rows
 *     own oracle     = per head the pages of the selector's index by mass_g, merged rank by rank
 *                      (as the selectors merge) to retrievedPages ids; recall_g = fixed_g + their mass_g
 *     pos oracle     = the same over positional pages (index region cut into runs of 16 positions)
 *     top-k in one   = exact top-k tokens of the index region: share that lies in the page holding
 *                      most of them, and the number of distinct pages holding them (own / positional)
 *   at the end of the run, per stream: key spread of a page = mean |k - page centroid|^2 over its
 *   rows, averaged over pages with >= 2 rows and divided by the mean |k - centroid|^2 of all indexed
 *   keys (1 = a page is as spread as the whole index, 0 = identical keys); own and positional pages
 * </pre>
 *
 * Means are over (query head, position) samples; "by stream" keeps one set per (layer, KV head).
 * Register it (beside {@link AttentionRecall}) on the cache the {@link KeyRecordingCache} wraps.
 */
public final class PageDiagnosis implements AttendedPositions {

    private final KeyRecordingCache recorder;
    private final PageSelector selector;
    private final CacheShape shape;
    private final int firstSparse;
    private final int sinkTokens;
    private final int retrieved;
    private final int topK;
    private final AttentionRecall window; // for windowStart only
    private final Totals[] streams;       // [sparse stream]
    private final GqaMerge merge = new GqaMerge();
    private double[][] weights = new double[0][];   // [group head][position]
    private double[] pageMass = new double[0];      // [page * group + g]
    private int[] pageRows = new int[16];
    private int[] lists = new int[0];
    private int[] counts = new int[0];
    private int[] chosen = new int[0];
    private int[] pageOfToken = new int[0];          // [position] own page id, -1 outside the index
    private final int[] hitsPerPage;
    private final int rows = CacheConfig.PAGE_ROWS;

    /**
     * @param recorder the decorator around the observed cache
     * @param selector the observed cache's selector (its pages are the "own" pages)
     * @param config the observed cache's configuration
     * @param recall the recall observer of the same run (its window composition is reused)
     * @param topK k of the top-k concentration
     */
    public PageDiagnosis(KeyRecordingCache recorder, PageSelector selector, CacheConfig config, AttentionRecall recall,
                         int topK) {
        this.recorder = recorder;
        this.selector = selector;
        this.shape = recorder.shape();
        this.firstSparse = Math.min(config.denseLayers(), shape.nLayers());
        this.sinkTokens = config.sinkTokens();
        this.retrieved = config.retrievedPages();
        this.topK = topK;
        this.window = recall;
        this.streams = new Totals[(shape.nLayers() - firstSparse) * shape.nKvHeads()];
        for (int i = 0; i < streams.length; i++) {
            streams[i] = new Totals();
        }
        this.hitsPerPage = new int[Math.max(1, shape.maxTokens())];
    }

    /** Per-stream totals, index (layer - firstSparse) * nKvHeads + kvHead. */
    public Totals stream(int layer, int kvHead) {
        return streams[(layer - firstSparse) * shape.nKvHeads() + kvHead];
    }

    /** First sparse layer. */
    public int firstSparseLayer() {
        return firstSparse;
    }

    /** Totals pooled over every sparse stream. */
    public Totals all() {
        Totals t = new Totals();
        for (Totals s : streams) {
            t.addAll(s);
        }
        return t;
    }

    @Override
    public void accept(int layer, int kvHead, int position, int[] positions, int count) {
        int group = shape.groupSize();
        int end = window.windowStart(position);
        if (end <= sinkTokens) {
            return; // nothing indexed yet: no page to choose
        }
        int n = position + 1;
        ensure(group, n);
        double[] fixed = new double[group];
        for (int g = 0; g < group; g++) {
            softmax(layer, kvHead * group + g, n, weights[g]);
            double f = 0;
            for (int i = 0; i < n; i++) {
                f += i < sinkTokens || i >= end ? weights[g][i] : 0;
            }
            fixed[g] = f;
        }
        Totals t = stream(layer, kvHead);
        // own pages
        int limit = selector.pageIdLimit(layer, kvHead);
        Arrays.fill(pageOfToken, 0, n, -1);
        if (pageMass.length < limit * group) {
            pageMass = new double[limit * group];
        }
        Arrays.fill(pageMass, 0, limit * group, 0);
        for (int page = 0; page < limit; page++) {
            int size = selector.pageSize(layer, kvHead, page);
            if (size == 0) {
                continue;
            }
            if (pageRows.length < size) {
                pageRows = new int[size];
            }
            selector.pageTokens(layer, kvHead, page, pageRows);
            for (int s = 0; s < size; s++) {
                int tok = pageRows[s];
                pageOfToken[tok] = page;
                for (int g = 0; g < group; g++) {
                    pageMass[page * group + g] += weights[g][tok];
                }
            }
        }
        t.ownOracle += oracle(limit, group, fixed);
        t.ownTopKShare += concentration(n, end, group, true, t);
        // positional pages over the same index region
        int posPages = (end - sinkTokens + rows - 1) / rows;
        if (pageMass.length < posPages * group) {
            pageMass = new double[posPages * group];
        }
        Arrays.fill(pageMass, 0, posPages * group, 0);
        for (int tok = sinkTokens; tok < end; tok++) {
            int page = (tok - sinkTokens) / rows;
            for (int g = 0; g < group; g++) {
                pageMass[page * group + g] += weights[g][tok];
            }
        }
        t.posOracle += oracle(posPages, group, fixed);
        t.posTopKShare += concentration(n, end, group, false, t);
        t.samples += group;
    }

    /** Sum over group heads of fixed_g + mass of the pages chosen by mass, rank-merged. */
    private double oracle(int pageCount, int group, double[] fixed) {
        int k = Math.min(retrieved, pageCount);
        if (lists.length < group * pageCount) {
            lists = new int[group * pageCount];
            chosen = new int[pageCount];
        }
        Integer[] order = new Integer[pageCount];
        for (int g = 0; g < group; g++) {
            for (int p = 0; p < pageCount; p++) {
                order[p] = p;
            }
            int gg = g;
            Arrays.sort(order, (a, b) -> Double.compare(pageMass[b * group + gg], pageMass[a * group + gg]));
            for (int p = 0; p < pageCount; p++) {
                lists[g * pageCount + p] = order[p];
            }
            counts[g] = pageCount;
        }
        int c = merge.merge(lists, pageCount, counts, group, k, chosen);
        double sum = 0;
        for (int g = 0; g < group; g++) {
            double m = fixed[g];
            for (int i = 0; i < c; i++) {
                m += pageMass[chosen[i] * group + g];
            }
            sum += m;
        }
        return sum;
    }

    /** Sum over group heads of the share of the index region's exact top-k in its fullest page. */
    private double concentration(int n, int end, int group, boolean own, Totals t) {
        double share = 0;
        int k = Math.min(topK, end - sinkTokens);
        for (int g = 0; g < group; g++) {
            double[] w = weights[g];
            double kth = kthLargest(w, sinkTokens, end, k);
            int taken = 0;
            int distinct = 0;
            int most = 0;
            int[] touched = new int[k];
            for (int tok = sinkTokens; tok < end && taken < k; tok++) {
                if (w[tok] >= kth) {
                    int page = own ? pageOfToken[tok] : (tok - sinkTokens) / rows;
                    if (page < 0) {
                        continue; // not in the index (cannot happen for a consistent selector)
                    }
                    if (hitsPerPage[page]++ == 0) {
                        touched[distinct++] = page;
                    }
                    most = Math.max(most, hitsPerPage[page]);
                    taken++;
                }
            }
            for (int i = 0; i < distinct; i++) {
                hitsPerPage[touched[i]] = 0;
            }
            share += taken == 0 ? 0 : (double) most / taken;
            if (own) {
                t.ownPagesSpanned += distinct;
            } else {
                t.posPagesSpanned += distinct;
            }
        }
        return share;
    }

    private static double kthLargest(double[] w, int from, int to, int k) {
        double[] copy = Arrays.copyOfRange(w, from, to);
        Arrays.sort(copy);
        return copy[copy.length - k];
    }

    private void softmax(int layer, int head, int n, double[] out) {
        double max = recorder.scaledScores(layer, head, n, out);
        double z = 0;
        for (int i = 0; i < n; i++) {
            out[i] = Math.exp(out[i] - max);
            z += out[i];
        }
        for (int i = 0; i < n; i++) {
            out[i] /= z;
        }
    }

    /**
     * Key spread of the selector's own pages and of positional pages over the keys indexed now
     * (see the class comment); call once after the run, before the cache is closed.
     */
    public void measureSpread(int committedPositions) {
        int hd = shape.headDim();
        int end = window.windowStart(committedPositions);
        for (int layer = firstSparse; layer < shape.nLayers(); layer++) {
            for (int h = 0; h < shape.nKvHeads(); h++) {
                float[] keys = recorder.keys(layer, h);
                if (end - sinkTokens < 2) {
                    continue;
                }
                double total = spread(keys, hd, tokensRange(sinkTokens, end));
                if (total == 0) {
                    continue;
                }
                double own = 0;
                int ownPages = 0;
                for (int page = 0; page < selector.pageIdLimit(layer, h); page++) {
                    int size = selector.pageSize(layer, h, page);
                    if (size < 2) {
                        continue;
                    }
                    int[] toks = new int[size];
                    selector.pageTokens(layer, h, page, toks);
                    own += spread(keys, hd, toks);
                    ownPages++;
                }
                double pos = 0;
                int posPages = 0;
                for (int start = sinkTokens; start + 1 < end; start += rows) {
                    pos += spread(keys, hd, tokensRange(start, Math.min(end, start + rows)));
                    posPages++;
                }
                Totals t = stream(layer, h);
                t.ownSpread = ownPages == 0 ? Double.NaN : own / ownPages / total;
                t.posSpread = posPages == 0 ? Double.NaN : pos / posPages / total;
            }
        }
    }

    private static int[] tokensRange(int from, int to) {
        int[] t = new int[to - from];
        for (int i = 0; i < t.length; i++) {
            t[i] = from + i;
        }
        return t;
    }

    /** Mean squared distance of the rows {@code tokens} to their centroid. */
    private static double spread(float[] keys, int hd, int[] tokens) {
        double[] c = new double[hd];
        for (int t : tokens) {
            for (int d = 0; d < hd; d++) {
                c[d] += keys[t * hd + d];
            }
        }
        for (int d = 0; d < hd; d++) {
            c[d] /= tokens.length;
        }
        double s = 0;
        for (int t : tokens) {
            for (int d = 0; d < hd; d++) {
                double x = keys[t * hd + d] - c[d];
                s += x * x;
            }
        }
        return s / tokens.length;
    }

    private void ensure(int group, int n) {
        if (weights.length < group || weights[0].length < n) {
            weights = new double[group][Math.max(n, shape.maxTokens())];
        }
        if (pageOfToken.length < n) {
            pageOfToken = new int[Math.max(n, shape.maxTokens())];
        }
        if (counts.length < group) {
            counts = new int[group];
        }
    }

    /** Diagnosis sums of one stream (or pooled); means via the accessors. */
    public static final class Totals {
        long samples;
        double ownOracle;
        double posOracle;
        double ownTopKShare;
        double posTopKShare;
        double ownPagesSpanned;
        double posPagesSpanned;
        double ownSpread = Double.NaN;
        double posSpread = Double.NaN;
        private int spreadStreams;
        private double ownSpreadSum;
        private double posSpreadSum;

        void addAll(Totals o) {
            samples += o.samples;
            ownOracle += o.ownOracle;
            posOracle += o.posOracle;
            ownTopKShare += o.ownTopKShare;
            posTopKShare += o.posTopKShare;
            ownPagesSpanned += o.ownPagesSpanned;
            posPagesSpanned += o.posPagesSpanned;
            if (!Double.isNaN(o.ownSpread) && !Double.isNaN(o.posSpread)) {
                spreadStreams++;
                ownSpreadSum += o.ownSpread;
                posSpreadSum += o.posSpread;
                ownSpread = ownSpreadSum / spreadStreams;
                posSpread = posSpreadSum / spreadStreams;
            }
        }

        private double mean(double sum) {
            return samples == 0 ? Double.NaN : sum / samples;
        }

        /** Attention recall of the best choice among the policy's own pages. */
        public double ownOracleRecall() {
            return mean(ownOracle);
        }

        /** Attention recall of the best choice among positional pages. */
        public double positionalOracleRecall() {
            return mean(posOracle);
        }

        /** Share of the exact top-k (index region) in the own page holding most of it. */
        public double ownTopKInOnePage() {
            return mean(ownTopKShare);
        }

        /** Share of the exact top-k (index region) in the positional page holding most of it. */
        public double positionalTopKInOnePage() {
            return mean(posTopKShare);
        }

        /** Own pages holding the exact top-k, mean. */
        public double ownPagesSpanned() {
            return mean(ownPagesSpanned);
        }

        /** Positional pages holding the exact top-k, mean. */
        public double positionalPagesSpanned() {
            return mean(posPagesSpanned);
        }

        /** Key spread of own pages relative to all indexed keys (NaN before {@link #measureSpread}). */
        public double ownSpread() {
            return ownSpread;
        }

        /** Key spread of positional pages relative to all indexed keys. */
        public double positionalSpread() {
            return posSpread;
        }
    }
}
