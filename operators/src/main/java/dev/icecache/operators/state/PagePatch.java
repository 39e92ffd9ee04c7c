package dev.icecache.operators.state;

/**
 * Rows of one KV page written since its whole block was last stored: the rows a decode slice or
 * a prefill chunk changed when the tree moved a few tokens between leaves, kept beside the block
 * instead of rewriting all of it ({@link MapStatePageStore}).
 *
 * <pre>
 *   page as read = block with row r replaced by the patch's next row for every bit r of slots,
 *                  cut (or zero-extended) to validRows
 * </pre>
 *
 * @param validRows the page's valid-row count now (it may differ from the block's)
 * @param slots bit r set: row r is in {@code rows}, in increasing r; only rows below
 *              {@code validRows} and below {@link #MAX_SLOTS}
 * @param rows the patched K and V rows, {@code bitCount(slots)} of them, as a {@link StoredPage}
 */
public record PagePatch(int validRows, int slots, StoredPage rows) {

    /** Rows a patch can name: the bits of {@code slots}. */
    public static final int MAX_SLOTS = 28;

    public PagePatch {
        if (rows == null) {
            throw new IllegalArgumentException("page patch rows must not be null");
        }
        if (validRows < 0 || validRows > PageSerializer.MAX_ROWS) {
            throw new IllegalArgumentException("page patch validRows=" + validRows + " outside [0, "
                    + PageSerializer.MAX_ROWS + "]");
        }
        if ((slots & ~slotsBelow(validRows)) != 0) {
            throw new IllegalArgumentException("page patch slots=0x" + Integer.toHexString(slots)
                    + " name rows at or past validRows=" + validRows + " or past " + MAX_SLOTS);
        }
        if (Integer.bitCount(slots) != rows.validRows()) {
            throw new IllegalArgumentException("page patch names " + Integer.bitCount(slots) + " slots but holds "
                    + rows.validRows() + " rows");
        }
    }

    /** The slot mask of rows {@code 0 .. n-1} that a patch can name. */
    public static int slotsBelow(int n) {
        return n >= MAX_SLOTS ? (1 << MAX_SLOTS) - 1 : (1 << n) - 1;
    }
}
