package dev.icecache.kvcache.tree;

import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.page.LongIntMap;
import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * The DCI tree of one (layer, KV head): a multi-level index over post-RoPE keys whose B+-tree
 * leaves are pages of semantically similar keys (icecache.md "The tree", "Updating",
 * "Selecting pages").
 *
 * <pre>
 *   level top   ......  root cell: the top-level nodes, sorted by projection, in leaves/pages
 *   level l     ......  every node below the top sits in the cell of its parent one level up
 *   level 0     ......  about 99% of the tokens
 *   page        =  one leaf of one cell: up to leafCapacity siblings adjacent in projection order
 * </pre>
 *
 * Every token is a node at exactly one level and sits in exactly one (page, slot); slots of a
 * page are 0..pageSize-1. {@link #add} bulk-builds an empty tree and inserts later batches
 * (streaming growth [ours], see {@link TreeGrowth}). Each change of a token's place is logged for
 * the page store ({@link #drainMoves}); every changed page id is listed
 * ({@link #drainChangedPages}); snapshot cells changed since the last drain are listed
 * ({@link #drainDirtyCells}).
 *
 * <p>Not thread-safe: one tree per (layer, KV head), used by one thread at a time.
 */
public final class DciTree {

    /** Sentinel page id: token not indexed / no source page (a new token in the move log). */
    public static final int NO_PAGE = -1;
    /** Levels a tree may have; p1 = 0.2 reaches about 12 at the node limit. */
    static final int MAX_LEVELS = 32;

    final TreeCore core;
    final ParentFinder finder;
    final long[] atLeast = new long[MAX_LEVELS]; // [level] nodes counted at >= level (promotion)
    private final DciLevel[] levels = new DciLevel[MAX_LEVELS];
    private final TreeGrowth growth;
    private final TreeSearch searcher;
    private final GroupSearch groupSearcher;
    /**
     * Below this many tokens {@link #searchGroup} searches head by head (same result): the group
     * pass's planning cost more than the key reads it saved at 4k tokens (0.21 vs 0.18 ms per
     * group of 4) and less from 16k (0.25 vs 0.38 ms), thread CPU time, BENCHMARKS.md issue 13.
     */
    static final int GROUP_PASS_MIN_TOKENS = 8192;
    private int[] groupPageScratch = new int[0];
    private float[] groupScoreScratch = new float[0];
    private final byte[] scratchCodes;             // one compact row, for a batch's M^2
    ChildIndex root;
    // the children's index of every node above level 0 (about p0 of the nodes), found by node id:
    // a map instead of a table indexed by node id saves 4 bytes a token per tree (issue 12)
    private final LongIntMap cellSlot = new LongIntMap(16); // node -> index in cellList
    private ChildIndex[] cellList = new ChildIndex[16];
    private int cellCount;
    int top;                                // the highest level with a node (0 when empty)

    /**
     * An empty tree.
     *
     * @param headDim floats per key row (&gt; 0)
     * @param params tree and search parameters
     * @param projection the shared projection direction; its headDim must equal {@code headDim}
     */
    public DciTree(int headDim, DciParams params, Projection projection) {
        this(headDim, params, projection, 0.0);
        core.dirty.markHeader();
        core.dirty.markChildIndex(Nodes.ROOT);
    }

    DciTree(int headDim, DciParams params, Projection projection, double m2) {
        Checks.checkArgument(headDim > 0, "headDim=%d must be > 0", headDim);
        Checks.checkArgument(params != null, "params must not be null; use DciParams.defaults()");
        Checks.checkArgument(projection != null && projection.headDim() == headDim,
                "projection headDim=%s must equal the tree's headDim=%d; build one Projection per head size",
                projection == null ? "null" : projection.headDim(), headDim);
        this.core = new TreeCore(headDim, params, projection, m2);
        this.finder = new ParentFinder(core, this);
        for (int l = 0; l < MAX_LEVELS; l++) {
            levels[l] = new DciLevel(l == 0);
        }
        this.root = new ChildIndex(core, Nodes.ROOT, m2);
        this.growth = new TreeGrowth(this);
        this.searcher = new TreeSearch(this);
        this.groupSearcher = new GroupSearch(this);
        this.scratchCodes = new byte[headDim];
    }

    /** Tokens indexed. */
    public int size() {
        return core.nodes.size;
    }

    /** Floats per key row. */
    public int headDim() {
        return core.headDim;
    }

    /** The parameters this tree was built with. */
    public DciParams params() {
        return core.params;
    }

    /**
     * Indexes n new tokens: key rows {@code keys[keyOff + i*headDim ..]}, token ids (= positions)
     * {@code tokens[tokOff+i]}, strictly increasing and greater than every token already indexed.
     * On an empty tree this bulk-builds; afterwards it inserts the batch token by token
     * (promotion at the same ratios, parent search, re-parenting, splits half + half).
     *
     * @throws IllegalArgumentException for out-of-range offsets, tokens out of order, or a key
     *                                  that is not finite
     */
    public void add(float[] keys, int keyOff, int[] tokens, int tokOff, int n) {
        checkBatch(keys, keyOff, tokens, tokOff, n);
        if (n == 0) {
            return;
        }
        core.dirty.markHeader();
        int d = core.headDim;
        if (size() == 0) {
            growth.reserve(n);
            for (int i = 0; i < n; i++) {
                growth.appendNode(keys, keyOff + i * d, tokens[tokOff + i]);
            }
            growth.bulkBuild();
            return;
        }
        double batchMax = 0;
        for (int i = 0; i < n; i++) {
            float rowScale = CompactKeys.quantize(keys, keyOff + i * d, d, scratchCodes, 0);
            batchMax = Math.max(batchMax, Nodes.norm2(scratchCodes, 0, rowScale, d));
        }
        // one M^2 for the whole batch, so every distance in it is measured the same way
        core.mips.observe(batchMax);
        growth.reserve(n);
        for (int i = 0; i < n; i++) {
            growth.insert(growth.appendNode(keys, keyOff + i * d, tokens[tokOff + i]));
        }
    }

    private void checkBatch(float[] keys, int keyOff, int[] tokens, int tokOff, int n) {
        Checks.checkArgument(keys != null && tokens != null, "keys and tokens must not be null");
        Checks.checkArgument(n >= 0, "n=%d must be >= 0", n);
        Checks.checkRange(keyOff, (long) n * core.headDim, keys.length);
        Checks.checkRange(tokOff, n, tokens.length);
        int last = size() == 0 ? -1 : core.nodes.token(size() - 1);
        for (int i = 0; i < n; i++) {
            int t = tokens[tokOff + i];
            Checks.checkArgument(t > last,
                    "token=%d at batch index %d must be greater than the previous token=%d; tokens are positions (>= 0), strictly increasing",
                    t, i, last);
            last = t;
            int off = keyOff + i * core.headDim;
            for (int j = 0; j < core.headDim; j++) {
                // NOTE: an if, not Checks' varargs: boxing a float and two ints per key element took
                // 1.25 GB of a 4k prefill's allocation samples (issue 13, tenth session)
                if (!Float.isFinite(keys[off + j])) {
                    throw new IllegalArgumentException(String.format("key of token=%d has a non-finite value %s"
                            + " at index %d; keys must be finite", t, keys[off + j], j));
                }
            }
        }
    }

    /** Page of {@code token}, or {@link #NO_PAGE} if not indexed. */
    public int pageOf(int token) {
        int x = core.nodes.nodeOf(token);
        return x < 0 ? NO_PAGE : core.nodes.page[x];
    }

    /**
     * Row of {@code token} inside its page, 0..pageSize-1.
     *
     * @throws IllegalArgumentException when the token is not indexed
     */
    public int slotOf(int token) {
        int x = core.nodes.nodeOf(token);
        Checks.checkArgument(x >= 0, "token=%d is not indexed; check pageOf(token) != NO_PAGE first", token);
        return core.nodes.slot[x];
    }

    /** Page ids are 0..pageIdLimit-1; some may be dead (size 0). */
    public int pageIdLimit() {
        return core.pages.limit();
    }

    /** Rows per page at most (the leaf capacity). */
    public int pageCapacity() {
        return core.pages.capacity();
    }

    /** Valid rows of {@code page} (0 for a dead id). */
    public int pageSize(int page) {
        return core.pages.rowCount(Checks.checkIndex(page, pageIdLimit()));
    }

    /** Tokens of {@code page} by slot ({@code out[slot] = token}); returns the page size. */
    public int pageTokens(int page, int[] out) {
        int n = pageSize(page);
        if (out == null || out.length < n) { // not Checks.checkArgument: its varargs would allocate per call
            throw new IllegalArgumentException("out holds " + (out == null ? "null" : out.length)
                    + " ints; page=" + page + " has " + n + " rows");
        }
        for (int s = 0; s < n; s++) {
            out[s] = core.nodes.token(core.pages.node(page, s));
        }
        return n;
    }

    /** Moves (token -&gt; page, slot) pending since the last drain, net per token. */
    public int pendingMoves() {
        return core.pages.pendingMoves();
    }

    /**
     * Drains every token whose (page, slot) changed since the last drain: where it was then
     * (fromPage = NO_PAGE, fromSlot = -1 for a new token) and where it is now, in the order first
     * moved. One entry per token, so a store reads every source row first and then writes every
     * destination row. Each array needs {@link #pendingMoves()} entries.
     */
    public void drainMoves(int[] token, int[] fromPage, int[] fromSlot, int[] toPage, int[] toSlot) {
        int n = pendingMoves();
        for (int[] a : new int[][] {token, fromPage, fromSlot, toPage, toSlot}) {
            Checks.checkArgument(a != null && a.length >= n, "drainMoves arrays need %d entries each", n);
        }
        int written = core.pages.drainMoves(token, fromPage, fromSlot, toPage, toSlot);
        assert written == n;
        for (int i = 0; i < written; i++) {
            token[i] = core.nodes.token(token[i]);
        }
    }

    /** Page ids whose rows changed (insert, removal, split, merge, freed) since the last drain. */
    public int changedPageCount() {
        return core.pages.changedCount();
    }

    /** Drains the changed page ids into {@code out} (needs {@link #changedPageCount()} entries). */
    public int drainChangedPages(int[] out) {
        Checks.checkArgument(out != null && out.length >= changedPageCount(),
                "out needs %d entries", changedPageCount());
        return core.pages.drainChanged(out);
    }

    /**
     * Best distinct pages for one query row (post-RoPE, headDim floats at {@code q[qOff]}), best
     * first; page score = {@link DciParams#pageScore()} of the keys scored in it (the paper's: the
     * best q.k; ties: lower page id first).
     *
     * @param stats counters to add to, or null
     * @return the number of pages written (&lt;= maxPages)
     */
    public int search(float[] q, int qOff, int maxPages, int[] outPages, float[] outScores, SearchStats stats) {
        // plain ifs, not Checks' varargs: this runs per query head per decode step
        if (q == null || outPages == null || outScores == null) {
            throw new IllegalArgumentException("q, outPages and outScores must not be null");
        }
        Checks.checkRange(qOff, core.headDim, q.length);
        if (maxPages < 0 || outPages.length < maxPages || outScores.length < maxPages) {
            throw new IllegalArgumentException("maxPages=" + maxPages + " must be >= 0 and fit outPages (length="
                    + outPages.length + ") and outScores (length=" + outScores.length + ")");
        }
        if (size() == 0 || maxPages == 0) {
            return 0;
        }
        return searcher.search(q, qOff, maxPages, outPages, outScores, stats);
    }

    /**
     * {@link #search} for {@code heads} query rows at {@code q[qOff + h*headDim]} (the query heads
     * of one GQA group) in one pass over the tree: head h's result, the same as its own search,
     * goes to {@code outPages[h*maxPages ..]} and {@code outScores[h*maxPages ..]}, its length to
     * {@code outCounts[h]}. A leaf scanned for several heads is read once.
     */
    public void searchGroup(float[] q, int qOff, int heads, int maxPages, int[] outPages, float[] outScores,
                            int[] outCounts, SearchStats stats) {
        // plain ifs, not Checks' varargs: this runs per KV head per decode step
        if (q == null || outPages == null || outScores == null || outCounts == null) {
            throw new IllegalArgumentException("q, outPages, outScores and outCounts must not be null");
        }
        if (heads < 1 || outCounts.length < heads) {
            throw new IllegalArgumentException("heads=" + heads + " must be >= 1 and fit outCounts (length="
                    + outCounts.length + ")");
        }
        Checks.checkRange(qOff, (long) heads * core.headDim, q.length);
        long need = (long) heads * maxPages;
        if (maxPages < 0 || outPages.length < need || outScores.length < need) {
            throw new IllegalArgumentException("maxPages=" + maxPages + " must be >= 0 and heads*maxPages fit outPages"
                    + " (length=" + outPages.length + ") and outScores (length=" + outScores.length + ")");
        }
        if (size() == 0 || maxPages == 0) {
            Arrays.fill(outCounts, 0, heads, 0);
            return;
        }
        if (size() < GROUP_PASS_MIN_TOKENS) {
            for (int h = 0; h < heads; h++) {
                outCounts[h] = searcher.search(q, qOff + h * core.headDim, maxPages, scratchPages(maxPages),
                        scratchScores(maxPages), stats);
                System.arraycopy(groupPageScratch, 0, outPages, h * maxPages, outCounts[h]);
                System.arraycopy(groupScoreScratch, 0, outScores, h * maxPages, outCounts[h]);
            }
            return;
        }
        groupSearcher.search(q, qOff, heads, maxPages, outPages, outScores, outCounts, stats);
    }

    private int[] scratchPages(int n) {
        if (groupPageScratch.length < n) {
            groupPageScratch = new int[n];
        }
        return groupPageScratch;
    }

    private float[] scratchScores(int n) {
        if (groupScoreScratch.length < n) {
            groupScoreScratch = new float[n];
        }
        return groupScoreScratch;
    }

    /**
     * Writes the stored (compact, {@link CompactKeys}) key of {@code token} as floats, code * scale,
     * into {@code dst[dstOff..]} and returns dst.
     */
    public float[] key(int token, float[] dst, int dstOff) {
        int x = core.nodes.nodeOf(token);
        Checks.checkArgument(x >= 0, "token=%d is not indexed", token);
        Checks.checkRange(dstOff, core.headDim, dst.length);
        for (int i = 0; i < core.headDim; i++) {
            dst[dstOff + i] = core.nodes.key(x, i);
        }
        return dst;
    }

    /**
     * Bytes of this tree's tables on the heap, by part (array capacities; the pages' rows are in the
     * page store, not here): {@code [0]} compact keys (codes and scales), {@code [1]} node and page
     * metadata, cells included.
     */
    public long[] heapBytes() {
        Nodes n = core.nodes;
        long keys = n.codes.length + 4L * n.scale.length;
        long meta = n.tokenBytes() + 4L * n.norm2.length + 8L * n.proj.length + n.level.length
                + 4L * n.parent.length + 4L * n.page.length + n.slot.length + core.pages.heapBytes()
                + 4L * cellList.length + 24L * cellCount;
        for (int i = 0; i < cellCount; i++) {
            meta += cellList[i].heapBytes();
        }
        for (DciLevel level : levels) {
            meta += level.heapBytes();
        }
        return new long[] {keys, meta + root.heapBytes()};
    }

    /**
     * Heap bytes this tree holds (array capacities included), {@link #heapBytes} summed: an
     * accounting figure for memory budgets, not an exact object size.
     */
    public long retainedBytes() {
        long[] parts = heapBytes();
        return parts[0] + parts[1];
    }

    /** Drains the ids of snapshot cells changed since the last drain into {@code out}; returns the count. */
    public int drainDirtyCells(int[] out) {
        Checks.checkArgument(out != null && out.length >= dirtyCellCount(), "out needs %d entries", dirtyCellCount());
        return core.dirty.drain(out);
    }

    /** Snapshot cells changed since the last drain. */
    public int dirtyCellCount() {
        return core.dirty.count();
    }

    /** Compact versioned bytes of one cell (header, node chunk, or one parent's child index). */
    public byte[] cellBytes(int cell) {
        return TreeSnapshot.write(this, cell);
    }

    /**
     * Rebuilds a tree from its cells' latest bytes ({@code cells.apply(id)}). The restored tree
     * answers every query and every later {@link #add} exactly as the original; its move log,
     * changed pages and dirty cells start empty.
     *
     * @throws IllegalArgumentException when a cell is missing, corrupt, or of another version
     */
    public static DciTree restore(int headDim, DciParams params, Projection projection, IntFunction<byte[]> cells) {
        return TreeSnapshot.restore(headDim, params, projection, cells);
    }

    /** Checks every structural invariant; throws AssertionError naming the first broken one. */
    void checkInvariants() {
        TreeInvariants.check(this);
    }

    // ---- package-private structure access for growth, search, snapshots and invariants ----

    DciLevel level(int l) {
        return levels[l];
    }

    /** Levels in use: highest non-empty level + 1 (0 for an empty tree). */
    int levelCount() {
        int l = MAX_LEVELS;
        while (l > 0 && levels[l - 1].count() == 0) {
            l--;
        }
        return l;
    }

    ChildIndex cell(int owner) {
        return owner == Nodes.ROOT ? root : cellOf(owner);
    }

    /** The children's index of {@code node}, or null for a node at level 0. */
    ChildIndex cellOf(int node) {
        int i = cellSlot.get(node);
        return i == LongIntMap.MISSING ? null : cellList[i];
    }

    /** Sets the children's index of {@code node} (a node above level 0). */
    void setCell(int node, ChildIndex cell) {
        int i = cellSlot.get(node);
        if (i != LongIntMap.MISSING) {
            cellList[i] = cell;
            return;
        }
        if (cellCount == cellList.length) {
            cellList = Arrays.copyOf(cellList, cellCount * 2);
        }
        cellList[cellCount] = cell;
        cellSlot.put(node, cellCount++);
    }

    /** Nodes with a children's index. */
    int cellCount() {
        return cellCount;
    }

    /** The i-th children's index (in the order they were set). */
    ChildIndex cellAt(int i) {
        return cellList[i];
    }
}
