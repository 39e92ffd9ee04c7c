package dev.icecache.kvcache.page;

/**
 * The slow tier (SPI): page blocks by (layer, KV head, page id), each with a valid-row count.
 * Blocks are exchanged in the layout of {@link #layout()} (K rows, then V rows, see
 * {@link PageLayout}); a store keeps them in its {@link #format()} and widens to float32 on read.
 *
 * <p>Contract, checked for every implementation by {@code PageStoreContract} in the tests:
 * <ul>
 *   <li>{@code write} replaces any earlier block of the same key; rows at or past
 *       {@code validRows} are not stored;</li>
 *   <li>{@code read} of a written key returns its valid-row count and fills the whole block:
 *       valid rows as written (after the format's rounding), the rest zero; of an absent key it
 *       returns {@link #ABSENT} and leaves {@code dst} untouched;</li>
 *   <li>{@code delete} removes a key and says whether it was there;</li>
 *   <li>keys of different layers, heads and ids never alias; page ids may be any int.</li>
 * </ul>
 * Implementations need not be thread-safe: one cache (one sequence) uses a store at a time.
 * The Flink operator adds a RocksDB-backed implementation.
 */
public interface PageStore extends AutoCloseable {

    /** Returned by {@link #read} for a page that is not stored. */
    int ABSENT = -1;

    /** The block layout this store exchanges. */
    PageLayout layout();

    /** How floats are kept; BF16 rounds on write. */
    PageFormat format();

    /**
     * Reads one block into {@code dst[dstOff .. dstOff + layout().floatsPerPage())}.
     *
     * @return the valid-row count, or {@link #ABSENT}
     */
    int read(int layer, int kvHead, int pageId, float[] dst, int dstOff);

    /**
     * Stores the first {@code validRows} K and V rows of the block at {@code src[srcOff]}.
     *
     * @param validRows rows in use, 0..rowsPerPage
     */
    void write(int layer, int kvHead, int pageId, float[] src, int srcOff, int validRows);

    /**
     * Stores the block as {@link #write} does, and says which rows changed: bit {@code r} of
     * {@code changedRows} is set when row {@code r} differs from the block last written under
     * this key or read from it (every row at or past that block's valid-row count counts as
     * changed and must be set; rows from 64 on are always taken as changed). A store may then
     * keep only those rows (a patch over the block it holds) instead of the whole block; a
     * later {@link #read} returns the same block either way. The default writes the whole block.
     *
     * <p>The caller guarantees the mask: a row left out that did change is lost.
     */
    default void writeRows(int layer, int kvHead, int pageId, float[] src, int srcOff, int validRows,
                           long changedRows) {
        write(layer, kvHead, pageId, src, srcOff, validRows);
    }

    /** Removes a page; returns true when it was stored. */
    boolean delete(int layer, int kvHead, int pageId);

    /** Pages stored. */
    int pageCount();

    /** Releases files or native resources; the store is unusable afterwards. */
    @Override
    void close();
}
