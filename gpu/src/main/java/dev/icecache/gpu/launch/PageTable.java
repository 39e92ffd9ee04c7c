package dev.icecache.gpu.launch;

import java.util.Arrays;

import dev.icecache.kvcache.device.PageListing;

/**
 * The host side of the attention kernel's page tables for one step: per KV head, the pool slots
 * to attend and their valid rows, filled in place and uploaded as one int array.
 *
 * <pre>
 *   ints: [ slot  [nKvHeads][maxPages] | rows [nKvHeads][maxPages] | count [nKvHeads] | first [nKvHeads][maxPages] ]
 * </pre>
 *
 * {@code first} serves the causal prefill kernel ({@link PrefillAttentionLaunch}): the position of
 * row 0 of a positional page (sink, window, chunk), or -1 for a page whose rows all precede the
 * queries (a retrieved page). The decode kernel reads only the first three parts.
 *
 * Reused for every step; allocates nothing after construction.
 */
public final class PageTable implements PageListing {

    private final AttentionLaunch launch;
    private final int[] ints;

    /** Empty tables for {@code launch}. */
    public PageTable(AttentionLaunch launch) {
        this.launch = launch;
        this.ints = new int[3 * launch.nKvHeads() * launch.maxPages() + launch.nKvHeads()];
    }

    /** The launch geometry these tables serve. */
    public AttentionLaunch launch() {
        return launch;
    }

    /** Empties every KV head's list. */
    public void clear() {
        Arrays.fill(ints, countBase(), firstBase(), 0);
    }

    /**
     * Appends a page to KV head {@code kvHead}'s list.
     *
     * @param validRows rows to attend: a prefix of the page (1 .. rowsPerPage)
     * @throws IllegalStateException when the list is full
     * @throws IllegalArgumentException when a value is out of range
     */
    public void add(int kvHead, int slot, int validRows) {
        add(kvHead, slot, validRows, -1);
    }

    /**
     * Appends a page to KV head {@code kvHead}'s list, with the position of its row 0 for the causal
     * prefill kernel (-1: every row precedes the queries).
     *
     * @throws IllegalStateException when the list is full
     * @throws IllegalArgumentException when a value is out of range
     */
    @Override
    public void add(int kvHead, int slot, int validRows, int firstPosition) {
        if (kvHead < 0 || kvHead >= launch.nKvHeads() || slot < 0 || firstPosition < -1
                || validRows < 1 || validRows > launch.layout().rowsPerPage()) {
            throw new IllegalArgumentException("page table add kvHead=" + kvHead + " slot=" + slot + " validRows="
                    + validRows + " firstPosition=" + firstPosition + " out of range");
        }
        int n = ints[countBase() + kvHead];
        if (n == launch.maxPages()) {
            throw new IllegalStateException("page table of kvHead=" + kvHead + " is full at maxPages=" + n);
        }
        ints[launch.tableIndex(kvHead, n)] = slot;
        ints[rowsBase() + launch.tableIndex(kvHead, n)] = validRows;
        ints[firstBase() + launch.tableIndex(kvHead, n)] = firstPosition;
        ints[countBase() + kvHead] = n + 1;
    }

    /**
     * Attends only the first {@code count} pages listed for a KV head (the entries past it stay, so
     * a table of every page of a growing sequence is built once and its counts raised step by step).
     *
     * @throws IllegalArgumentException when count is negative or exceeds maxPages
     */
    public void setCount(int kvHead, int count) {
        if (kvHead < 0 || kvHead >= launch.nKvHeads() || count < 0 || count > launch.maxPages()) {
            throw new IllegalArgumentException("page table setCount kvHead=" + kvHead + " count=" + count
                    + " outside maxPages=" + launch.maxPages());
        }
        ints[countBase() + kvHead] = count;
    }

    /** A copy of every entry and count. */
    public PageTable copy() {
        PageTable t = new PageTable(launch);
        System.arraycopy(ints, 0, t.ints, 0, ints.length);
        return t;
    }

    /** Position of row 0 of page e of a KV head, or -1 when every row precedes the queries. */
    public int first(int kvHead, int e) {
        return ints[firstBase() + launch.tableIndex(kvHead, e)];
    }

    /** Index in {@link #ints()} where the first-position table starts. */
    public int firstBase() {
        return countBase() + launch.nKvHeads();
    }

    /** Pages listed for a KV head. */
    public int count(int kvHead) {
        return ints[countBase() + kvHead];
    }

    /** Slot of page e of a KV head. */
    public int slot(int kvHead, int e) {
        return ints[launch.tableIndex(kvHead, e)];
    }

    /** Valid rows of page e of a KV head. */
    public int rows(int kvHead, int e) {
        return ints[rowsBase() + launch.tableIndex(kvHead, e)];
    }

    /** The int array uploaded to the device. */
    public int[] ints() {
        return ints;
    }

    /** Index in {@link #ints()} where the valid-row table starts. */
    public int rowsBase() {
        return launch.nKvHeads() * launch.maxPages();
    }

    /** Index in {@link #ints()} where the counts start. */
    public int countBase() {
        return 2 * launch.nKvHeads() * launch.maxPages();
    }
}
