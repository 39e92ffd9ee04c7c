package dev.icecache.kvcache.policy;

import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.tree.DciParams;

/**
 * How one sequence's {@link PagedKvCache} spends its budget; identical for every policy
 * (icecache.md "Data layout", issue 3 "Policies").
 *
 * <pre>
 *   budget in tokens B (a multiple of 16)  ->  P = B / 16 pages per (sparse layer, KV head)
 *   P = sink + retrieved + window
 *   sink = window = 2 pages; 1 and 1 when B &lt; 128     (64 tokens = 1 + 2 + 1)
 *   layers 0 .. denseLayers-1 attend to every position (dense)
 *   FULL ignores the budget: every position is attended
 *   IceCache's recent positional pages (DciParams.AUTO_RECENT_PAGES) = retrieved / 2   [ours, issue 18]
 * </pre>
 *
 * @param policy the selection policy
 * @param budgetTokens resident tokens per (sparse layer, KV head): a multiple of 16, at least sink + window
 * @param denseLayers leading layers with full attention (&gt;= 0; 2 in the paper)
 * @param pageFormat how pages are kept in the store; with BF16, K and V rows are rounded on
 *                   append so every tier holds the same values
 * @param treeParams DCI tree parameters (IceCache policies); leafCapacity must be 16
 */
public record CacheConfig(Policy policy, int budgetTokens, int denseLayers, PageFormat pageFormat,
                          DciParams treeParams) {

    /** Rows per page (icecache.md "Defaults"). */
    public static final int PAGE_ROWS = PageLayout.DEFAULT_ROWS_PER_PAGE;
    /** Dense layers of the reference. */
    public static final int DEFAULT_DENSE_LAYERS = 2;
    /**
     * The page format of the engine and the job: BF16, 2 bytes a value in every tier (as
     * llama.cpp's default cache is f16); F32 stays available for exact comparisons.
     */
    public static final PageFormat DEFAULT_PAGE_FORMAT = PageFormat.BF16;
    /** Budgets below this many tokens shrink sink and window to one page each. */
    public static final int SMALL_BUDGET_TOKENS = 128;

    public CacheConfig {
        Checks.checkArgument(policy != null, "policy must not be null; one of FULL, STREAMING, QUEST, ORACLE, "
                + "ICECACHE, ICECACHE_REUSE");
        Checks.checkArgument(pageFormat != null, "pageFormat must not be null (F32 or BF16)");
        Checks.checkArgument(treeParams != null, "treeParams must not be null; use DciParams.defaults()");
        Checks.checkArgument(budgetTokens > 0 && budgetTokens % PAGE_ROWS == 0,
                "budgetTokens=%d must be a positive multiple of %d (e.g. 64, 128, 256)", budgetTokens, PAGE_ROWS);
        int pages = budgetTokens / PAGE_ROWS;
        int edge = budgetTokens < SMALL_BUDGET_TOKENS ? 2 : 4;
        // Every sparse policy plans at least one retrieved page per step, so sink + window may not take it all.
        Checks.checkArgument(policy == Policy.FULL || pages > edge,
                "budgetTokens=%d leaves no page to retrieve after sink + window (%d tokens); use at least %d",
                budgetTokens, edge * PAGE_ROWS, (edge + 1) * PAGE_ROWS);
        Checks.checkArgument(denseLayers >= 0, "denseLayers=%d must be >= 0", denseLayers);
        Checks.checkArgument(treeParams.leafCapacity() == PAGE_ROWS,
                "treeParams.leafCapacity=%d must equal the page size %d: tree leaves are the pages",
                treeParams.leafCapacity(), PAGE_ROWS);
        if (treeParams.recentPages() == DciParams.AUTO_RECENT_PAGES) {
            // [ours, issue 18] IceCache holds the newest indexed tokens as half the retrieved pages
            treeParams = treeParams.withRecentPages(Math.min(DciParams.MAX_RECENT_PAGES, Math.max(0, pages - edge) / 2));
        }
    }

    /** The reference configuration of {@code policy} at {@code budgetTokens}: 2 dense layers, BF16, default tree. */
    public static CacheConfig of(Policy policy, int budgetTokens) {
        return new CacheConfig(policy, budgetTokens, DEFAULT_DENSE_LAYERS, DEFAULT_PAGE_FORMAT, DciParams.defaults());
    }

    /** This configuration with another number of dense layers. */
    public CacheConfig withDenseLayers(int layers) {
        return new CacheConfig(policy, budgetTokens, layers, pageFormat, treeParams);
    }

    /** This configuration with another page format. */
    public CacheConfig withPageFormat(PageFormat format) {
        return new CacheConfig(policy, budgetTokens, denseLayers, format, treeParams);
    }

    /** This configuration with other tree parameters. */
    public CacheConfig withTreeParams(DciParams params) {
        return new CacheConfig(policy, budgetTokens, denseLayers, pageFormat, params);
    }

    /** Budget pages P per (sparse layer, KV head). */
    public int budgetPages() {
        return budgetTokens / PAGE_ROWS;
    }

    /** Sink pages: 2, or 1 under 128 tokens. */
    public int sinkPages() {
        return budgetTokens < SMALL_BUDGET_TOKENS ? 1 : 2;
    }

    /** Window pages: 2, or 1 under 128 tokens. */
    public int windowPages() {
        return sinkPages();
    }

    /** Pages selected per step: P - sink - window. */
    public int retrievedPages() {
        return budgetPages() - sinkPages() - windowPages();
    }

    /** Positions in the sink. */
    public int sinkTokens() {
        return sinkPages() * PAGE_ROWS;
    }
}
