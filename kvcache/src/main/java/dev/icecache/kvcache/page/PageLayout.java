package dev.icecache.kvcache.page;

import dev.icecache.kvcache.Checks;

/**
 * The one place that knows where a row of a page lives (style.md rule 5). A page block is the K
 * rows and then the V rows of up to {@code rowsPerPage} positions of one (layer, KV head),
 * row-major, in one contiguous run of floats; a valid-row count says how many rows are in use.
 *
 * <pre>
 *   block (floatsPerPage = 2 * rowsPerPage * headDim floats):
 *   +---------+---------+-----+-------------------+---------+-----+-------------------+
 *   | K row 0 | K row 1 | ... | K row rowsPerPage-1| V row 0 | ... | V row rowsPerPage-1|
 *   +---------+---------+-----+-------------------+---------+-----+-------------------+
 *   ^ 0                                            ^ rowsPerPage * headDim
 *
 *   an array of blocks (pool, staging buffer): block s starts at s * floatsPerPage
 * </pre>
 *
 * @param rowsPerPage rows a page holds (16 in the paper; &gt; 0)
 * @param headDim floats per row (&gt; 0)
 */
public record PageLayout(int rowsPerPage, int headDim) {

    /** Rows per page in the paper and in every default of this project. */
    public static final int DEFAULT_ROWS_PER_PAGE = 16;

    public PageLayout {
        Checks.checkArgument(rowsPerPage > 0 && rowsPerPage <= 1 << 10,
                "rowsPerPage=%d must be in [1, 1024]", rowsPerPage);
        Checks.checkArgument(headDim > 0 && headDim <= 1 << 14, "headDim=%d must be in [1, 16384]", headDim);
    }

    /** The paper's layout: 16 rows per page. */
    public static PageLayout of(int headDim) {
        return new PageLayout(DEFAULT_ROWS_PER_PAGE, headDim);
    }

    /** Floats in one block (K and V of every row). */
    public int floatsPerPage() {
        return Math.multiplyExact(2, Math.multiplyExact(rowsPerPage, headDim));
    }

    /** Bytes of the floats of one block in {@code format}. */
    public long bytesPerPage(PageFormat format) {
        return Math.multiplyExact((long) floatsPerPage(), format.bytesPerFloat());
    }

    /** Offset of key row {@code row} inside a block. */
    public int keyOffset(int row) {
        assert row >= 0 && row < rowsPerPage : "row=" + row;
        return row * headDim;
    }

    /** Offset of value row {@code row} inside a block. */
    public int valueOffset(int row) {
        assert row >= 0 && row < rowsPerPage : "row=" + row;
        return (rowsPerPage + row) * headDim;
    }

    /** Offset of block {@code index} in an array of blocks; fails on int overflow. */
    public int blockOffset(int index) {
        return Math.multiplyExact(index, floatsPerPage());
    }

    /** Floats needed by an array of {@code blocks} blocks; fails on int overflow. */
    public int floatsFor(int blocks) {
        if (blocks < 0) {
            throw new IllegalArgumentException(String.format("blocks=%d must be >= 0", blocks));
        }
        return Math.multiplyExact(blocks, floatsPerPage());
    }

    /** Checks a valid-row count for a page of this layout. */
    public void checkValidRows(int validRows) {
        if (validRows < 0 || validRows > rowsPerPage) {
            throw new IllegalArgumentException(String.format("validRows=%d must be in [0, rowsPerPage=%d]",
                    validRows, rowsPerPage));
        }
    }
}
