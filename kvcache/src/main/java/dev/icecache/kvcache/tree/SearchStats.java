package dev.icecache.kvcache.tree;

/**
 * Mutable counters one caller passes to {@link DciTree#search}; the search adds to them and never
 * resets them, so one instance can sum over many queries.
 */
public final class SearchStats {

    /** Exact query-key dot products computed. */
    public long exactDots;
    /** Candidates pooled across all levels (tokens scored). */
    public int candidates;
    /** Queries searched. */
    public long queries;

    /** Sets every counter to zero. */
    public void reset() {
        exactDots = 0;
        candidates = 0;
        queries = 0;
    }
}
