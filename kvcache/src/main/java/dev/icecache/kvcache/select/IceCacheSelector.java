package dev.icecache.kvcache.select;

import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.tree.DciTree;
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
 */
public final class IceCacheSelector implements PageSelector {

    private final SelectorSpec spec;
    private final int headDim;
    private final DciTree[] trees;          // [stream]; null for dense layers
    private final SearchStats stats = new SearchStats();
    private final GqaMerge merge = new GqaMerge();
    private int[] lists = new int[0];       // [queryHead][maxPages]
    private int[] counts = new int[0];      // [queryHead]
    private int[] searchPages = new int[0]; // [maxPages]
    private float[] searchScores = new float[0];
    private final int[] pageRows;           // [rowsPerPage] scratch for pageTokens
    private final int[][] reuseTokens;      // [kvHead][tokens of the group's selection, best page first]
    private final int[] reuseCount;         // [kvHead]
    private final int[] reuseLayer;         // [kvHead] layer that made the remembered selection, -1 none
    private final int[] reusePosition;      // [kvHead] position it was made for

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
        for (int l = spec.firstSparseLayer(); l < spec.shape().nLayers(); l++) {
            for (int h = 0; h < spec.shape().nKvHeads(); h++) {
                trees[spec.stream(l, h)] = new DciTree(headDim, spec.treeParams(), spec.projection());
            }
        }
        int kv = spec.shape().nKvHeads();
        this.pageRows = new int[spec.rowsPerPage()];
        this.reuseTokens = new int[kv][0];
        this.reuseCount = new int[kv];
        this.reuseLayer = new int[kv];
        this.reusePosition = new int[kv];
        java.util.Arrays.fill(reuseLayer, -1);
    }

    /** The tree of a sparse stream (read-only use: tests, benchmarks). */
    public DciTree tree(int layer, int kvHead) {
        DciTree t = trees[spec.stream(layer, kvHead)];
        if (t == null) {
            throw new IllegalArgumentException(String.format("layer=%d is dense and has no tree", layer));
        }
        return t;
    }

    @Override
    public void add(int layer, int kvHead, float[] keys, int keyOff, int[] tokens, int tokOff, int n) {
        tree(layer, kvHead).add(keys, keyOff, tokens, tokOff, n);
    }

    @Override
    public int pendingMoves(int layer, int kvHead) {
        return tree(layer, kvHead).pendingMoves();
    }

    @Override
    public void drainMoves(int layer, int kvHead, int[] token, int[] fromPage, int[] fromSlot, int[] toPage,
                           int[] toSlot) {
        tree(layer, kvHead).drainMoves(token, fromPage, fromSlot, toPage, toSlot);
    }

    @Override
    public int pageIdLimit(int layer, int kvHead) {
        return tree(layer, kvHead).pageIdLimit();
    }

    @Override
    public int pageSize(int layer, int kvHead, int page) {
        DciTree t = tree(layer, kvHead);
        return page >= 0 && page < t.pageIdLimit() ? t.pageSize(page) : 0;
    }

    @Override
    public int pageTokens(int layer, int kvHead, int page, int[] out) {
        return tree(layer, kvHead).pageTokens(page, out);
    }

    @Override
    public int select(int layer, int kvHead, int position, float[] q, int qOff, int queryHeads, int maxPages,
                      int[] out) {
        DciTree t = tree(layer, kvHead);
        int group = spec.reuseLayers() + 1;
        int offset = (layer - spec.firstSparseLayer()) % group;
        if (offset != 0 && reuseLayer[kvHead] == layer - offset && reusePosition[kvHead] == position) {
            return selectReused(t, kvHead, maxPages, out);
        }
        ensureScratch(queryHeads, maxPages);
        for (int h = 0; h < queryHeads; h++) {
            int n = t.search(q, qOff + h * headDim, maxPages, searchPages, searchScores, stats);
            System.arraycopy(searchPages, 0, lists, h * maxPages, n);
            counts[h] = n;
        }
        int written = merge.merge(lists, maxPages, counts, queryHeads, maxPages, out);
        if (spec.reuseLayers() > 0 && offset == 0) {
            remember(t, kvHead, layer, position, out, written);
        }
        return written;
    }

    private void remember(DciTree t, int kvHead, int layer, int position, int[] pages, int n) {
        int need = n * spec.rowsPerPage();
        if (reuseTokens[kvHead].length < need) {
            reuseTokens[kvHead] = new int[need];
        }
        int c = 0;
        for (int i = 0; i < n; i++) {
            int rows = t.pageTokens(pages[i], pageRows);
            System.arraycopy(pageRows, 0, reuseTokens[kvHead], c, rows);
            c += rows;
        }
        reuseCount[kvHead] = c;
        reuseLayer[kvHead] = layer;
        reusePosition[kvHead] = position;
    }

    private int selectReused(DciTree t, int kvHead, int maxPages, int[] out) {
        int n = reuseCount[kvHead];
        ensureScratch(1, n);
        int c = 0;
        for (int i = 0; i < n; i++) {
            int page = t.pageOf(reuseTokens[kvHead][i]);
            if (page != DciTree.NO_PAGE) {
                lists[c++] = page;
            }
        }
        counts[0] = c;
        return merge.merge(lists, c, counts, 1, maxPages, out);
    }

    private void ensureScratch(int heads, int k) {
        if (lists.length < heads * k) {
            lists = new int[heads * k];
        }
        if (counts.length < heads) {
            counts = new int[heads];
        }
        if (searchPages.length < k) {
            searchPages = new int[k];
            searchScores = new float[k];
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
        return tree(layer, kvHead).drainDirtyCells(out);
    }

    @Override
    public int dirtyCellCount(int layer, int kvHead) {
        return tree(layer, kvHead).dirtyCellCount();
    }

    @Override
    public byte[] cellBytes(int layer, int kvHead, int cell) {
        return tree(layer, kvHead).cellBytes(cell);
    }

    @Override
    public void restore(int layer, int kvHead, IntFunction<byte[]> cells) {
        tree(layer, kvHead); // checks the stream is sparse
        trees[spec.stream(layer, kvHead)] = DciTree.restore(headDim, spec.treeParams(), spec.projection(), cells);
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
