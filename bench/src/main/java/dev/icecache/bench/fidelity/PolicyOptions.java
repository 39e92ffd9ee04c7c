package dev.icecache.bench.fidelity;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.kvcache.tree.PageScore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The cache options the policy benchmarks share ({@code bench fidelity}, {@code bench retrieval}),
 * as a picocli mixin: which policies at which budgets, dense layers and the IceCache search
 * setting, turned into the {@link CacheConfig} of each run so every command composes the budget
 * the same way.
 */
public final class PolicyOptions {

    @Option(names = "--policies", split = ",", paramLabel = "LIST",
            defaultValue = "FULL,STREAMING,QUEST,ORACLE,ICECACHE,ICECACHE_REUSE",
            description = "Comma-separated policies (default: ${DEFAULT-VALUE}).")
    List<String> policies;

    @Option(names = "--budgets", split = ",", paramLabel = "LIST", defaultValue = "64,128,256",
            description = "Comma-separated budgets in tokens, multiples of 16 (default: ${DEFAULT-VALUE}).")
    List<Integer> budgets;

    @Option(names = "--dense-layers", defaultValue = "2", paramLabel = "N", description = "Leading layers with full attention (default: ${DEFAULT-VALUE}).")
    int denseLayers;

    @Option(names = "--page-format", defaultValue = "BF16", paramLabel = "F32|BF16",
            description = "How every cache keeps K and V rows: BF16 (2 bytes a value, the engine's default) or F32"
                    + " (exact) (default: ${DEFAULT-VALUE}).")
    PageFormat pageFormat;

    @Option(names = "--exhaustive-search", description = "IceCache policies search their trees with fieldOfView = n and a"
            + " full scan (the exact best pages of the tree's clustering; a diagnostic, not the reference setting; default: off).")
    boolean exhaustiveSearch;

    @Option(names = "--paper-search", description = "IceCache policies search every tree with the paper's settings"
            + " only (DciParams.paper(): no exhaustive search of trees of <= 1024 tokens; default: off).")
    boolean paperSearch;

    @Option(names = "--page-score", paramLabel = "SCORE", description = "IceCache page score: BEST_KEY (the paper's)"
            + " or ATTENTION_MASS (log-sum-exp of the page's rows) (default: the search setting's).")
    PageScore pageScore;

    @Option(names = "--recent-pages", paramLabel = "N", description = "IceCache: newest indexed tokens held as N"
            + " positional pages before they enter the tree, at most half the selected slots; 0 = none, the paper's"
            + " (default: the search setting's).")
    Integer recentPages;

    /** Leading layers with full attention. */
    public int denseLayers() {
        return denseLayers;
    }

    /** How every cache of the run keeps K and V rows. */
    public PageFormat pageFormat() {
        return pageFormat;
    }

    /** The budgets asked for, in tokens, in the order given (validated by {@link #configs}). */
    public List<Integer> budgets() {
        return List.copyOf(budgets);
    }

    /**
     * One configuration per (policy, budget), policy-major in the order given.
     *
     * @throws CommandLine.ParameterException naming the option when a policy is unknown, a budget
     *         is not a multiple of 16 of at least 48, or dense layers are negative
     */
    public List<CacheConfig> configs(CommandLine cli) {
        if (denseLayers < 0) {
            throw new CommandLine.ParameterException(cli, "--dense-layers=" + denseLayers + " must be >= 0");
        }
        List<CacheConfig> configs = new ArrayList<>();
        for (String name : policies) {
            Policy policy = policy(cli, name);
            for (int budget : budgets) {
                configs.add(config(cli, policy, budget));
            }
        }
        return configs;
    }

    /**
     * The configuration of {@code policy} at {@code budget} with these options' dense layers and search.
     *
     * @throws CommandLine.ParameterException when the budget is not a multiple of 16 of at least 48
     */
    public CacheConfig config(CommandLine cli, Policy policy, int budget) {
        // one sink, one window and one selected page: CacheConfig takes 32, but a sparse policy
        // then has no page to select and PagedKvCache refuses to build its transfer plan
        int least = 3 * CacheConfig.PAGE_ROWS;
        if (budget < least || budget % CacheConfig.PAGE_ROWS != 0) {
            throw new CommandLine.ParameterException(cli, "--budgets: " + budget + " must be a multiple of "
                    + CacheConfig.PAGE_ROWS + " and at least " + least + " (e.g. 64,128,256)");
        }
        if (recentPages != null && (recentPages < 0 || recentPages > DciParams.MAX_RECENT_PAGES)) {
            throw new CommandLine.ParameterException(cli, "--recent-pages=" + recentPages + " must be in [0, "
                    + DciParams.MAX_RECENT_PAGES + "]");
        }
        CacheConfig config = CacheConfig.of(policy, budget).withDenseLayers(denseLayers).withPageFormat(pageFormat);
        DciParams tree = paperSearch ? DciParams.paper() : config.treeParams();
        if (exhaustiveSearch) {
            tree = tree.withExhaustiveSearch();
        }
        if (pageScore != null) {
            tree = tree.withPageScore(pageScore);
        }
        if (recentPages != null) {
            tree = tree.withRecentPages(recentPages);
        }
        return config.withTreeParams(tree);
    }

    /** The Markdown bullets (with line ends) saying how IceCache trees were searched and pages scored. */
    public String searchNote() {
        DciParams tree = config(null, Policy.ICECACHE, 64).treeParams();
        return searchSetting() + "- IceCache page score " + tree.pageScore() + ", recent positional pages "
                + tree.recentPages() + (tree.recentPages() > 0 ? " (at most half the selected slots)" : "") + "\n";
    }

    private String searchSetting() {
        if (exhaustiveSearch) {
            return "- IceCache trees searched exhaustively (fieldOfView = n, 100% scan), not with the reference"
                    + " fieldOfView max(30, 0.0015 n) and 80% scan\n";
        }
        if (paperSearch) {
            return "- IceCache trees searched with the paper's settings alone: fieldOfView max(30, 0.0015 n), 80% scan,"
                    + " at every tree size (DciParams.paper())\n";
        }
        return "- IceCache trees searched with the defaults: the paper's fieldOfView max(30, 0.0015 n) and 80% scan,"
                + " except that trees of <= 1024 tokens are searched exhaustively [ours]\n";
    }

    private static Policy policy(CommandLine cli, String name) {
        try {
            return Policy.valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cli, "--policies: unknown policy '" + name + "'; use one of "
                    + Arrays.toString(Policy.values()).replaceAll("[\\[\\] ]", ""));
        }
    }
}
