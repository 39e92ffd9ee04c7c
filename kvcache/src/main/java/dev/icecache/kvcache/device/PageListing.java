package dev.icecache.kvcache.device;

/**
 * Receives the pool pages one attention step reads, per KV head: the page table a device kernel
 * attends over (issue 14's per-step page table). Positional pages (sink, window) give the
 * position of their row 0; retrieved pages, whose rows all precede the step's queries, give -1.
 */
public interface PageListing {

    /**
     * One page of {@code kvHead}'s list.
     *
     * @param slot the pool slot holding the page
     * @param validRows rows to attend: a prefix of the page (1 .. rowsPerPage)
     * @param firstPosition position of row 0 of a positional page, or -1 when every row precedes the queries
     */
    void add(int kvHead, int slot, int validRows, int firstPosition);
}
