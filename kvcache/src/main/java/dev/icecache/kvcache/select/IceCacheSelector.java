package dev.icecache.kvcache.select;

import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.RangeRunner;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.kvcache.tree.DciTree;
import dev.icecache.kvcache.tree.PageScore;
import dev.icecache.kvcache.tree.SearchStats;
import java.util.function.IntFunction;

/**
 * IceCache: one {@link DciTree} per sparse (layer, KV head) whose leaves are pages of
 * semantically similar keys; per query head a tree search for the best {@code maxPages} pages,
 * query heads merged rank by rank (icecache.md "Selecting pages").
 *
 * <p>IceCache(r) ({@code spec.reuseLayers() = r > 0}): sparse layers form groups of r+1; the
 * first layer of a group searches and remembers the tokens of its selection (best page first);
 * the next r layers, at the same position, select their own pages holding those tokens, in that
 * order, up to the budget, with no search [ours: the paper reuses "the selected tokens"; pages
 * keep the budget and the pool bound]. When the group's first layer has not selected for this
 * position (for example inside a prefill chunk) the layer searches itself.
 *
 * <p>[ours, issue 18] With {@code treeParams.recentPages() = R > 0} the newest indexed tokens stay
 * out of the tree as up to R positional pages ({@link RecentPages}, ids 0..R; tree page t is id
 * R+1+t). Each query head ranks them with the tree's pages under the same page score; the merged
 * selection takes at most half its slots from them, so semantic pages fill at least half.
 * With R = 0 page ids are the tree's and the behaviour is the paper's. Trees are built with
 * {@code treeParams.forContext(maxTokens)} (a higher p0 when every tree stays small enough for
 * exhaustive search).
 */
public final class IceCacheSelector implements PageSelector {

    private final SelectorSpec spec;
    private final int headDim;
    private final DciTree[] trees;          // [stream]; null for dense layers
    private final RecentPages[] recent;     // [stream]; null for dense layers or without recent pages
    private final DciParams params;         // spec's, for this context length (DciParams.forContext)
    private final PageScore pageScore;
    private final long[] recentDots = new long[1];
    private long selectedPages;             // pages selected, all streams
    private long selectedRecent;            // of them recent (positional) pages
    private final SearchStats stats = new SearchStats();
    private final GqaMerge merge = new GqaMerge();
    private int[] lists = new int[0];       // [queryHead][maxPages]
    private int[] counts = new int[0];      // [queryHead]
    private int[] searchPages = new int[0]; // [maxPages]
    private float[] searchScores = new float[0];
    private float[] listScores = new float[0]; // [queryHead][stride] scores of lists
    private int[] candIds = new int[0];     // scratch of groupMass: candidate page ids
    private double[] candMass = new double[0];
    private int[] recentIds = new int[0];   // [recent pages] scratch, best first
    private float[] recentScores = new float[0];
    private int[] groupPages = new int[0];  // [queryHead][maxPages] the group search's lists
    private float[] groupScores = new float[0];
    private int[] groupCounts = new int[0]; // [queryHead]
    private final int[] pageRows;           // [rowsPerPage] scratch for pageTokens
    private final int[][] reuseTokens;      // [kvHead][tokens of the group's selection, best page first]
    private final int[] reuseCount;         // [kvHead]
    private final int[] reuseLayer;         // [kvHead] layer that made the remembered selection, -1 none
    private final int[] reusePosition;      // [kvHead] position it was made for
    private final SearchAhead[] ahead;      // [kvHead] group searches done by prepare()
    private final PrepareTask prepareTask = new PrepareTask();

    /** A selector with an empty tree for every sparse stream of {@code spec}. */
    public IceCacheSelector(SelectorSpec spec) {
        Checks.checkArgument(spec.treeParams() != null && spec.projection() != null,
                "IceCache needs treeParams and a projection in its SelectorSpec");
        Checks.checkArgument(spec.projection().headDim() == spec.shape().headDim(),
                "projection headDim=%d differs from the cache headDim=%d", spec.projection().headDim(),
                spec.shape().headDim());
        Checks.checkArgument(spec.treeParams().leafCapacity() == spec.rowsPerPage(),
                "tree leafCapacity=%d must equal rowsPerPage=%d: leaves are the pages",
                spec.treeParams().leafCapacity(), spec.rowsPerPage());
        this.spec = spec;
        this.headDim = spec.shape().headDim();
        this.trees = new DciTree[spec.streams()];
        this.recent = new RecentPages[spec.streams()];
        this.params = spec.treeParams().forContext(spec.shape().maxTokens());
        this.pageScore = params.pageScore();
        int recentPages = Math.max(0, spec.treeParams().recentPages()); // an unresolved AUTO: none
        for (int l = spec.firstSparseLayer(); l < spec.shape().nLayers(); l++) {
            for (int h = 0; h < spec.shape().nKvHeads(); h++) {
                trees[spec.stream(l, h)] = new DciTree(headDim, params, spec.projection());
                if (recentPages > 0) {
                    recent[spec.stream(l, h)] = new RecentPages(recentPages, spec.rowsPerPage(), headDim);
                }
            }
        }
        int kv = spec.shape().nKvHeads();
        this.pageRows = new int[spec.rowsPerPage()];
        this.reuseTokens = new int[kv][0];
        this.reuseCount = new int[kv];
        this.reuseLayer = new int[kv];
        this.reusePosition = new int[kv];
        java.util.Arrays.fill(reuseLayer, -1);
        this.ahead = new SearchAhead[kv];
        for (int h = 0; h < kv; h++) {
            ahead[h] = new SearchAhead();
        }
    }

    /** The tree of a sparse stream (read-only use: tests, benchmarks). */
    public DciTree tree(int layer, int kvHead) {
        DciTree t = trees[spec.stream(layer, kvHead)];
        if (t == null) {
            throw new IllegalArgumentException(String.format("layer=%d is dense and has no tree", layer));
        }
        return t;
    }

    /**
     * Selector page id of tree page 0 of a stream: 0 without recent pages, else R + 1 (the recent
     * pages' ids come first). Tree page t is selector page {@code treePageOffset + t}.
     */
    public int treePageOffset(int layer, int kvHead) {
        tree(layer, kvHead);
        RecentPages r = recent[spec.stream(layer, kvHead)];
        return r == null ? 0 : r.idCount();
    }

    /** Pages selected so far over every stream (IceCache(r)'s reused selections included). */
    public long selectedPages() {
        return selectedPages;
    }

    /** Of {@link #selectedPages()}, the recent (positional) pages. */
    public long selectedRecentPages() {
        return selectedRecent;
    }

    /** True: a stream's tree, recent pages and move log are its own; nothing else is written by add. */
    @Override
    public boolean addsInParallel() {
        return true;
    }

    @Override
    public void add(int layer, int kvHead, float[] keys, int keyOff, int[] tokens, int tokOff, int n) {
        DciTree t = tree(layer, kvHead);
        RecentPages r = recent[spec.stream(layer, kvHead)];
        ahead[kvHead].ready = false; // the index changes: a search done ahead no longer holds
        if (r == null) {
            t.add(keys, keyOff, tokens, tokOff, n);
        } else {
            r.add(t, keys, keyOff, tokens, tokOff, n);
        }
    }

    @Override
    public int pendingMoves(int layer, int kvHead) {
        DciTree t = tree(layer, kvHead);
        RecentPages r = recent[spec.stream(layer, kvHead)];
        return r == null ? t.pendingMoves() : r.pendingMoves(t);
    }

    @Override
    public void drainMoves(int layer, int kvHead, int[] token, int[] fromPage, int[] fromSlot, int[] toPage,
                           int[] toSlot) {
        DciTree t = tree(layer, kvHead);
        RecentPages r = recent[spec.stream(layer, kvHead)];
        if (r == null) {
            t.drainMoves(token, fromPage, fromSlot, toPage, toSlot);
        } else {
            r.drainMoves(t, token, fromPage, fromSlot, toPage, toSlot);
        }
    }

    @Override
    public int pageIdLimit(int layer, int kvHead) {
        return treePageOffset(layer, kvHead) + tree(layer, kvHead).pageIdLimit();
    }

    @Override
    public int pageSize(int layer, int kvHead, int page) {
        DciTree t = tree(layer, kvHead);
        RecentPages r = recent[spec.stream(layer, kvHead)];
        int off = r == null ? 0 : r.idCount();
        if (page >= 0 && page < off) {
            return r.size(page);
        }
        return page >= off && page - off < t.pageIdLimit() ? t.pageSize(page - off) : 0;
    }

    @Override
    public int pageTokens(int layer, int kvHead, int page, int[] out) {
        DciTree t = tree(layer, kvHead);
        RecentPages r = recent[spec.stream(layer, kvHead)];
        int off = r == null ? 0 : r.idCount();
        if (page >= 0 && page < off) {
            return r.pageTokens(page, out);
        }
        return t.pageTokens(page - off, out);
    }

    /** Selector page of {@code token}, or {@link DciTree#NO_PAGE}. */
    private int pageOf(DciTree t, RecentPages r, int token) {
        if (r != null) {
            int id = r.pageOf(token);
            if (id >= 0) {
                return id;
            }
        }
        int page = t.pageOf(token);
        return page == DciTree.NO_PAGE ? page : page + (r == null ? 0 : r.idCount());
    }

    /**
     * The group searches of a layer's KV heads on {@code workers} (the compute pool during decode and
     * prefill: the searches wait on memory, one tree at a time, so two threads overlap their
     * misses); {@link #select} then takes each head's result. A head that will reuse a selection
     * (IceCache(r)) or whose tree fits in {@code maxPages} is skipped, as select skips it.
     */
    @Override
    public void prepare(int layer, int position, float[] q, int qOff, int queryHeads, int maxPages,
                        RangeRunner workers) {
        if (layer < spec.firstSparseLayer() || workers.parallelism() < 2) {
            return;
        }
        prepareTask.layer = layer;
        prepareTask.position = position;
        prepareTask.q = q;
        prepareTask.qOff = qOff;
        prepareTask.queryHeads = queryHeads;
        prepareTask.maxPages = maxPages;
        try {
            workers.runRange(spec.shape().nKvHeads(), prepareTask);
        } finally {
            prepareTask.q = null;
        }
    }

    /** {@link #prepare}'s work over the KV heads of one layer; fields are set per call. */
    private final class PrepareTask implements RangeRunner.RangeTask {
        int layer;
        int position;
        float[] q;
        int qOff;
        int queryHeads;
        int maxPages;

        @Override
        public void run(int from, int to, int part) {
            int group = spec.reuseLayers() + 1;
            int offset = (layer - spec.firstSparseLayer()) % group;
            for (int h = from; h < to; h++) {
                SearchAhead a = ahead[h];
                a.ready = false;
                boolean reused = offset != 0 && reuseLayer[h] == layer - offset && reusePosition[h] == position;
                if (reused || pageIdLimit(layer, h) <= maxPages) {
                    continue;
                }
                a.search(tree(layer, h), layer, position, q, qOff + h * queryHeads * headDim, queryHeads, maxPages);
            }
        }
    }

    /** One KV head's group search done ahead of its {@link #select} call, and what it was for. */
    private static final class SearchAhead {
        boolean ready;
        int layer;
        int position;
        float[] q;
        int qOff;
        int heads;
        int maxPages;
        int[] pages = new int[0];
        float[] scores = new float[0];
        int[] counts = new int[0];
        final SearchStats stats = new SearchStats();

        void search(DciTree t, int layer, int position, float[] q, int qOff, int heads, int maxPages) {
            if (pages.length < heads * maxPages) {
                pages = new int[heads * maxPages];
                scores = new float[heads * maxPages];
            }
            if (counts.length < heads) {
                counts = new int[heads];
            }
            stats.reset();
            t.searchGroup(q, qOff, heads, maxPages, pages, scores, counts, stats);
            this.layer = layer;
            this.position = position;
            this.q = q;
            this.qOff = qOff;
            this.heads = heads;
            this.maxPages = maxPages;
            this.ready = true;
        }

        boolean matches(int layer, int position, float[] q, int qOff, int heads, int maxPages) {
            return ready && this.layer == layer && this.position == position && this.q == q && this.qOff == qOff
                    && this.heads == heads && this.maxPages == maxPages;
        }
    }

    @Override
    public int select(int layer, int kvHead, int position, float[] q, int qOff, int queryHeads, int maxPages,
                      int[] out) {
        DciTree t = tree(layer, kvHead);
        int group = spec.reuseLayers() + 1;
        int offset = (layer - spec.firstSparseLayer()) % group;
        if (offset != 0 && reuseLayer[kvHead] == layer - offset && reusePosition[kvHead] == position) {
            return selectReused(t, recent[spec.stream(layer, kvHead)], kvHead, maxPages, out);
        }
        RecentPages r = recent[spec.stream(layer, kvHead)];
        int held = r == null ? 0 : r.liveCount();
        int stride = maxPages + held;
        ensureScratch(queryHeads, stride);
        int off = r == null ? 0 : r.idCount();
        // one pass over the tree for the group; each head's list is that of its own search
        int[] foundPages;
        float[] foundScores;
        int[] foundCounts;
        SearchAhead a = ahead[kvHead];
        if (a.matches(layer, position, q, qOff, queryHeads, maxPages)) {
            a.ready = false;
            stats.exactDots += a.stats.exactDots;
            stats.candidates += a.stats.candidates;
            stats.queries += a.stats.queries;
            foundPages = a.pages;
            foundScores = a.scores;
            foundCounts = a.counts;
        } else {
            ensureGroupScratch(queryHeads, maxPages);
            t.searchGroup(q, qOff, queryHeads, maxPages, groupPages, groupScores, groupCounts, stats);
            foundPages = groupPages;
            foundScores = groupScores;
            foundCounts = groupCounts;
        }
        for (int h = 0; h < queryHeads; h++) {
            int n = foundCounts[h];
            System.arraycopy(foundPages, h * maxPages, searchPages, 0, n);
            System.arraycopy(foundScores, h * maxPages, searchScores, 0, n);
            if (held == 0) {
                for (int i = 0; i < n; i++) {
                    lists[h * stride + i] = searchPages[i];
                    listScores[h * stride + i] = searchScores[i];
                }
            } else {
                n = withRecent(r, held, q, qOff + h * headDim, n, lists, h * stride);
            }
            counts[h] = n;
        }
        int written = pageScore == PageScore.ATTENTION_MASS
                ? groupMass(stride, queryHeads, maxPages, out, off, held == 0 ? 0 : maxPages / 2)
                : held == 0 ? merge.merge(lists, stride, counts, queryHeads, maxPages, out)
                : merge.merge(lists, stride, counts, queryHeads, maxPages, out, r.idCount(), maxPages / 2);
        selectedPages += written;
        for (int i = 0; i < written && held > 0; i++) {
            selectedRecent += out[i] < r.idCount() ? 1 : 0;
        }
        if (spec.reuseLayers() > 0 && offset == 0) {
            remember(layer, kvHead, position, out, written);
        }
        return written;
    }

    /**
     * Merges the tree's ranked pages ({@code searchPages/searchScores[0..n)}, tree ids) with the
     * scored recent pages into {@code list[at..]}, best first (ties: the tree page first); returns the length.
     */
    private int withRecent(RecentPages r, int held, float[] q, int qh, int n, int[] list, int at) {
        int off = r.idCount();
        recentDots[0] = 0;
        for (int i = 0; i < held; i++) {
            recentIds[i] = r.liveId(i);
            recentScores[i] = r.score(recentIds[i], q, qh, pageScore, recentDots);
        }
        stats.exactDots += recentDots[0];
        // insertion sort of the few recent pages, best first
        for (int i = 1; i < held; i++) {
            for (int j = i; j > 0 && recentScores[j] > recentScores[j - 1]; j--) {
                float s = recentScores[j];
                recentScores[j] = recentScores[j - 1];
                recentScores[j - 1] = s;
                int id = recentIds[j];
                recentIds[j] = recentIds[j - 1];
                recentIds[j - 1] = id;
            }
        }
        int a = 0;
        int b = 0;
        int c = 0;
        while (a < n || b < held) {
            boolean tree = b >= held || (a < n && searchScores[a] >= recentScores[b]);
            listScores[at + c] = tree ? searchScores[a] : recentScores[b];
            list[at + c++] = tree ? searchPages[a++] + off : recentIds[b++];
        }
        return c;
    }

    /**
     * [ours, issue 18] With the attention-mass page score the query heads of a group share the
     * budget by mass, not by rank: each candidate page (a head's ranked pages and the recent pages)
     * gets, per head, its share of that head's mass over the head's candidates,
     * exp(score/sqrt(d)) / sum exp(score/sqrt(d)); pages are taken by the sum of those shares over
     * the group, best first (ties: first seen), ids below {@code limitedBelow} (recent pages) at
     * most {@code quota} times. This maximises the group's attention mass on the selected pages,
     * where a rank-by-rank merge gives each head the same number of slots whatever its need.
     */
    private int groupMass(int stride, int heads, int maxPages, int[] out, int limitedBelow, int quota) {
        if (candIds.length < heads * stride) {
            candIds = new int[heads * stride];
            candMass = new double[heads * stride];
        }
        int c = 0;
        double scale = 1.0 / Math.sqrt(headDim);
        for (int h = 0; h < heads; h++) {
            int n = counts[h];
            if (n == 0) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, listScores[h * stride + i]);
            }
            double z = 0;
            for (int i = 0; i < n; i++) {
                z += Math.exp((listScores[h * stride + i] - max) * scale);
            }
            for (int i = 0; i < n; i++) {
                int id = lists[h * stride + i];
                double m = Math.exp((listScores[h * stride + i] - max) * scale) / z;
                int j = 0;
                while (j < c && candIds[j] != id) {
                    j++;
                }
                if (j == c) {
                    candIds[c] = id;
                    candMass[c++] = 0;
                }
                candMass[j] += m;
            }
        }
        int written = 0;
        int limited = 0;
        while (written < maxPages) {
            int best = -1;
            for (int j = 0; j < c; j++) {
                if (candIds[j] >= 0 && (candIds[j] >= limitedBelow || limited < quota)
                        && (best < 0 || candMass[j] > candMass[best])) {
                    best = j;
                }
            }
            if (best < 0) {
                break;
            }
            out[written++] = candIds[best];
            limited += candIds[best] < limitedBelow ? 1 : 0;
            candIds[best] = -1;
        }
        return written;
    }

    private void remember(int layer, int kvHead, int position, int[] pages, int n) {
        int need = n * spec.rowsPerPage();
        if (reuseTokens[kvHead].length < need) {
            reuseTokens[kvHead] = new int[need];
        }
        int c = 0;
        for (int i = 0; i < n; i++) {
            int rows = pageTokens(layer, kvHead, pages[i], pageRows);
            System.arraycopy(pageRows, 0, reuseTokens[kvHead], c, rows);
            c += rows;
        }
        reuseCount[kvHead] = c;
        reuseLayer[kvHead] = layer;
        reusePosition[kvHead] = position;
    }

    private int selectReused(DciTree t, RecentPages r, int kvHead, int maxPages, int[] out) {
        int n = reuseCount[kvHead];
        ensureScratch(1, n);
        int c = 0;
        for (int i = 0; i < n; i++) {
            int page = pageOf(t, r, reuseTokens[kvHead][i]);
            if (page != DciTree.NO_PAGE) {
                lists[c++] = page;
            }
        }
        counts[0] = c;
        int written = merge.merge(lists, c, counts, 1, maxPages, out);
        selectedPages += written;
        for (int i = 0; i < written && r != null; i++) {
            selectedRecent += out[i] < r.idCount() ? 1 : 0;
        }
        return written;
    }

    private void ensureGroupScratch(int heads, int maxPages) {
        if (groupPages.length < heads * maxPages) {
            groupPages = new int[heads * maxPages];
            groupScores = new float[heads * maxPages];
        }
        if (groupCounts.length < heads) {
            groupCounts = new int[heads];
        }
    }

    private void ensureScratch(int heads, int k) {
        if (lists.length < heads * k) {
            lists = new int[heads * k];
            listScores = new float[heads * k];
        }
        if (counts.length < heads) {
            counts = new int[heads];
        }
        if (searchPages.length < k) {
            searchPages = new int[k];
            searchScores = new float[k];
            recentIds = new int[k];
            recentScores = new float[k];
        }
    }

    @Override
    public long exactDots() {
        return stats.exactDots;
    }

    @Override
    public boolean restoresFromCells() {
        return true;
    }

    @Override
    public int drainDirtyCells(int layer, int kvHead, int[] out) {
        DciTree t = tree(layer, kvHead);
        RecentPages r = recent[spec.stream(layer, kvHead)];
        if (r == null || !r.dirty()) {
            return t.drainDirtyCells(out);
        }
        if (out == null || out.length < dirtyCellCount(layer, kvHead)) {
            throw new IllegalArgumentException("out needs " + dirtyCellCount(layer, kvHead) + " entries");
        }
        int n = t.drainDirtyCells(out);
        out[n] = RecentPages.CELL;
        r.markClean();
        return n + 1;
    }

    @Override
    public int dirtyCellCount(int layer, int kvHead) {
        RecentPages r = recent[spec.stream(layer, kvHead)];
        return tree(layer, kvHead).dirtyCellCount() + (r != null && r.dirty() ? 1 : 0);
    }

    @Override
    public byte[] cellBytes(int layer, int kvHead, int cell) {
        DciTree t = tree(layer, kvHead);
        RecentPages r = recent[spec.stream(layer, kvHead)];
        return r != null && cell == RecentPages.CELL ? r.cellBytes() : t.cellBytes(cell);
    }

    @Override
    public void restore(int layer, int kvHead, IntFunction<byte[]> cells) {
        tree(layer, kvHead); // checks the stream is sparse
        ahead[kvHead].ready = false;
        int s = spec.stream(layer, kvHead);
        DciTree tree = DciTree.restore(headDim, params, spec.projection(), cells);
        RecentPages r = null;
        if (recent[s] != null) {
            r = new RecentPages(recent[s].idCount() - 1, spec.rowsPerPage(), headDim);
            r.restore(cells.apply(RecentPages.CELL));
        } else if (cells.apply(RecentPages.CELL) != null) {
            throw new IllegalArgumentException("the snapshot of layer=" + layer + " kvHead=" + kvHead + " holds recent"
                    + " pages but this cache has none (recentPages=0), whose page ids differ; restore it with the same"
                    + " IceCache settings");
        }
        trees[s] = tree;
        if (r != null) {
            recent[s] = r;
        }
    }

    @Override
    public long retainedBytes() {
        long bytes = 0;
        for (DciTree t : trees) {
            if (t != null) {
                bytes += t.retainedBytes();
            }
        }
        return bytes;
    }
}
