package dev.icecache.kvcache.tree;

import dev.icecache.kvcache.Checks;

/**
 * Parameters of one DCI tree and of its search, named as in {@code ../shared/design/icecache.md}
 * ("The tree", "Selecting pages", "Defaults").
 *
 * <pre>
 *   p0                    share of level-0 tokens promoted to level 1 (0.01)
 *   p1                    share of level-l nodes promoted to level l+1, l &gt;= 1 (0.2)
 *   leafCapacity          children per B+-tree leaf = rows per page (16); splits are half + half
 *   exactParentThreshold  the parent is found exactly when the level above has at most this many nodes (3000)
 *   anchorInterval        beyond the threshold every anchorInterval-th token is an exact "anchor" (60)
 *   scanProportion        share of a cell scanned outward from the query's projection (0.8)
 *   minFieldOfView        nodes kept per level during search, at least (30)
 *   fieldOfViewFraction   nodes kept per level, as a share of the tokens indexed (0.0015)
 *   exactSearchBelow      [ours] trees of at most this many tokens are searched exhaustively (1024)
 *   pageScore             [ours] how a page's scored rows make its score (paper: BEST_KEY)
 *   recentPages           [ours] the newest indexed tokens held as this many positional pages before
 *                         they enter the tree (paper: 0; AUTO = half the retrieved pages, resolved by
 *                         CacheConfig); see IceCacheSelector
 * </pre>
 *
 * NOTE: exactSearchBelow is ours, not the paper's. Below about a thousand keys the reference
 * search already scores most keys (80% of each cell on every level it descends), so scoring
 * all of them costs little more and removes the search's misses on short documents, where a
 * budget of 64-256 tokens is a large share of the context. {@link #paper()} turns it off.
 *
 * Promotion is deterministic and evenly spread in token order; for streams it continues at the
 * same ratios as tokens arrive [ours].
 *
 * @param p0 share promoted from level 0 to level 1, in (0, 1)
 * @param p1 share promoted from each level &gt;= 1 to the next, in (0, 1)
 * @param leafCapacity rows per page, even and in [2, 127]
 * @param exactParentThreshold upper-level size up to which parents are found exactly (&gt;= 1)
 * @param anchorInterval spacing of exact-parent anchors beyond the threshold (&gt;= 1)
 * @param scanProportion share of a cell scored during search, in (0, 1]
 * @param minFieldOfView nodes kept per level, at least (&gt;= 1)
 * @param fieldOfViewFraction nodes kept per level as a share of the tokens, in [0, 1]; a value
 *                            &gt;= 1 keeps every node (exhaustive search)
 * @param exactSearchBelow trees of at most this many tokens are searched exhaustively (&gt;= 0; 0 = never)
 * @param pageScore how a page's scored rows make its score
 * @param recentPages positional pages of the newest indexed tokens kept outside the tree (&gt;= 0), or
 *                    {@link #AUTO_RECENT_PAGES}
 */
public record DciParams(double p0, double p1, int leafCapacity, int exactParentThreshold, int anchorInterval,
                        double scanProportion, int minFieldOfView, double fieldOfViewFraction,
                        int exactSearchBelow, PageScore pageScore, int recentPages) {

    /** Most recent pages a selector may hold outside its tree. */
    public static final int MAX_RECENT_PAGES = 64;
    /** recentPages: half the retrieved pages of the cache's budget (CacheConfig resolves it). */
    public static final int AUTO_RECENT_PAGES = -1;
    /**
     * [ours, issue 18] p0 of trees that can never outgrow exhaustive search (see {@link #forContext}):
     * about one level-1 node per page, so a cell is about one page of keys nearest to one parent.
     */
    public static final double SHORT_CONTEXT_P0 = 1.0 / 16;

    public DciParams {
        Checks.checkArgument(p0 > 0 && p0 < 1, "p0=%s must be in (0, 1)", p0);
        Checks.checkArgument(p1 > 0 && p1 < 1, "p1=%s must be in (0, 1)", p1);
        Checks.checkArgument(leafCapacity >= 2 && leafCapacity <= 127 && leafCapacity % 2 == 0,
                "leafCapacity=%d must be even and in [2, 127]", leafCapacity);
        Checks.checkArgument(exactParentThreshold >= 1, "exactParentThreshold=%d must be >= 1", exactParentThreshold);
        Checks.checkArgument(anchorInterval >= 1, "anchorInterval=%d must be >= 1", anchorInterval);
        Checks.checkArgument(scanProportion > 0 && scanProportion <= 1,
                "scanProportion=%s must be in (0, 1]", scanProportion);
        Checks.checkArgument(minFieldOfView >= 1, "minFieldOfView=%d must be >= 1", minFieldOfView);
        Checks.checkArgument(fieldOfViewFraction >= 0 && fieldOfViewFraction <= 1,
                "fieldOfViewFraction=%s must be in [0, 1]", fieldOfViewFraction);
        Checks.checkArgument(exactSearchBelow >= 0, "exactSearchBelow=%d must be >= 0", exactSearchBelow);
        Checks.checkArgument(pageScore != null, "pageScore must not be null (BEST_KEY or ATTENTION_MASS)");
        Checks.checkArgument(recentPages >= AUTO_RECENT_PAGES && recentPages <= MAX_RECENT_PAGES,
                "recentPages=%d must be in [0, %d] or %d (half the retrieved pages)", recentPages, MAX_RECENT_PAGES,
                AUTO_RECENT_PAGES);
    }

    /** The paper's page score (best key) and no recent pages, with the other parameters given. */
    public DciParams(double p0, double p1, int leafCapacity, int exactParentThreshold, int anchorInterval,
                     double scanProportion, int minFieldOfView, double fieldOfViewFraction, int exactSearchBelow) {
        this(p0, p1, leafCapacity, exactParentThreshold, anchorInterval, scanProportion, minFieldOfView,
                fieldOfViewFraction, exactSearchBelow, PageScore.BEST_KEY, 0);
    }

    /** The reference settings of icecache.md "Defaults" and no exhaustive search of small trees. */
    public static DciParams paper() {
        return new DciParams(0.01, 0.2, 16, 3000, 60, 0.8, 30, 0.0015, 0);
    }

    /** The reference settings of icecache.md "Defaults", with trees of up to 1024 tokens searched exhaustively [ours]. */
    public static DciParams defaults() {
        return new DciParams(0.01, 0.2, 16, 3000, 60, 0.8, 30, 0.0015, 1024, PageScore.ATTENTION_MASS, AUTO_RECENT_PAGES);
    }

    /**
     * The defaults before issue 18: the paper's best-key page score and rank-by-rank GQA merge, no
     * recent pages, p0 = 0.01 at every length, trees of up to 1024 tokens searched exhaustively.
     * For state written before issue 18 (its trees and page ids differ from {@link #defaults()}).
     */
    public static DciParams bestKeyDefaults() {
        return new DciParams(0.01, 0.2, 16, 3000, 60, 0.8, 30, 0.0015, 1024);
    }

    /**
     * The same tree with a search that keeps every node of every level and scans every cell
     * completely: its selection equals the brute-force best pages (icecache.md "Sanity check").
     */
    public DciParams withExhaustiveSearch() {
        return new DciParams(p0, p1, leafCapacity, exactParentThreshold, anchorInterval, 1.0, Integer.MAX_VALUE, 1.0,
                exactSearchBelow, pageScore, recentPages);
    }

    /**
     * [ours, issue 18] The parameters for a sequence of at most {@code maxTokens} tokens: when every
     * tree of it is small enough to be searched exhaustively ({@code maxTokens <= exactSearchBelow}),
     * p0 rises to {@link #SHORT_CONTEXT_P0}. Search then scores every key whatever p0 is, and a cell
     * of about 16 nearest children makes a page a Voronoi cell of the keys instead of a slice of a
     * 100-key cell along one random direction (purer pages; measured in BENCHMARKS.md "Fidelity
     * diagnosis and fix"). Longer sequences keep p0: at 16k tokens p0 = 1/16 made each 16-token
     * insert about 60x slower (parents and re-parenting among ~1000 level-1 nodes).
     * It belongs to the issue-18 settings: with the best-key page score ({@link #paper()},
     * {@link #bestKeyDefaults()}) p0 is never changed.
     */
    public DciParams forContext(int maxTokens) {
        if (maxTokens > exactSearchBelow || p0 >= SHORT_CONTEXT_P0 || pageScore != PageScore.ATTENTION_MASS) {
            return this;
        }
        return new DciParams(SHORT_CONTEXT_P0, p1, leafCapacity, exactParentThreshold, anchorInterval, scanProportion,
                minFieldOfView, fieldOfViewFraction, exactSearchBelow, pageScore, recentPages);
    }

    /** The same parameters with another page score. */
    public DciParams withPageScore(PageScore score) {
        return new DciParams(p0, p1, leafCapacity, exactParentThreshold, anchorInterval, scanProportion,
                minFieldOfView, fieldOfViewFraction, exactSearchBelow, score, recentPages);
    }

    /** The same parameters with another number of recent pages ({@link #AUTO_RECENT_PAGES} allowed). */
    public DciParams withRecentPages(int pages) {
        return new DciParams(p0, p1, leafCapacity, exactParentThreshold, anchorInterval, scanProportion,
                minFieldOfView, fieldOfViewFraction, exactSearchBelow, pageScore, pages);
    }

    /** True when search scores every token (full scan, unbounded field of view). */
    public boolean exhaustive() {
        return scanProportion >= 1.0 && fieldOfViewFraction >= 1.0;
    }

    /** True when a tree of {@code n} tokens is searched exhaustively: always, or because it is small. */
    public boolean exhaustive(int n) {
        return exhaustive() || n <= exactSearchBelow;
    }

    /** Nodes kept per level for a tree of {@code n} tokens: max(minFieldOfView, fieldOfViewFraction*n). */
    public int fieldOfView(int n) {
        long byShare = (long) Math.ceil(fieldOfViewFraction * n);
        return (int) Math.min(Integer.MAX_VALUE, Math.max(minFieldOfView, byShare));
    }
}
