package dev.icecache.gpu.launch;

import java.util.Arrays;

/**
 * The host side of the attention kernel's page tables for one step: per KV head, the pool slots
 * to attend and their valid rows, filled in place and uploaded as one int array.
 *
 * <pre>
 *   ints: [ slot  [nKvHeads][maxPages] | rows [nKvHeads][maxPages] | count [nKvHeads] ]
 * </pre>
 *
 * Reused for every step; allocates nothing after construction.
 */
public final class PageTable {

    private final AttentionLaunch launch;
    private final int[] ints;

    /** Empty tables for {@code launch}. */
    public PageTable(AttentionLaunch launch) {
        this.launch = launch;
        this.ints = new int[2 * launch.nKvHeads() * launch.maxPages() + launch.nKvHeads()];
    }

    /** Empties every KV head's list. */
    public void clear() {
        Arrays.fill(ints, countBase(), ints.length, 0);
    }

    /**
     * Appends a page to KV head {@code kvHead}'s list.
     *
     * @param validRows rows to attend: a prefix of the page (1 .. rowsPerPage)
     * @throws IllegalStateException when the list is full
     * @throws IllegalArgumentException when a value is out of range
     */
    public void add(int kvHead, int slot, int validRows) {
        if (kvHead < 0 || kvHead >= launch.nKvHeads() || slot < 0
                || validRows < 1 || validRows > launch.layout().rowsPerPage()) {
            throw new IllegalArgumentException("page table add kvHead=" + kvHead + " slot=" + slot + " validRows="
                    + validRows + " out of range");
        }
        int n = ints[countBase() + kvHead];
        if (n == launch.maxPages()) {
            throw new IllegalStateException("page table of kvHead=" + kvHead + " is full at maxPages=" + n);
        }
        ints[launch.tableIndex(kvHead, n)] = slot;
        ints[rowsBase() + launch.tableIndex(kvHead, n)] = validRows;
        ints[countBase() + kvHead] = n + 1;
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
