package dev.icecache.operators.state;

import dev.icecache.kvcache.page.PageFormat;
import java.util.Arrays;

/**
 * One KV page of one (layer, KV head) as keyed state stores it: only the valid rows, K rows
 * first and then V rows, row-major.
 *
 * <pre>
 *   rows = [ K row 0 | K row 1 | ... | K row n-1 | V row 0 | ... | V row n-1 ]   n = validRows
 *          each row headDim floats; rows.length == 2 * validRows * headDim
 * </pre>
 *
 * Equality compares the format and the float bits, so NaN equals NaN and -0.0 differs from
 * 0.0: a stored page must come back bit for bit. A BF16 page holds only BF16 values (each
 * float is a widened bfloat16), so {@link PageSerializer} writes it in 2 bytes a value losslessly.
 *
 * @param validRows rows in use (0 ..= {@link PageSerializer#MAX_ROWS})
 * @param headDim floats per row (1 ..= {@link PageSerializer#MAX_HEAD_DIM})
 * @param rows the floats, owned by this page once constructed
 * @param format how the serializer stores the values; BF16 requires every value to be BF16-exact
 */
public record StoredPage(int validRows, int headDim, float[] rows, PageFormat format) {

    /** An F32 page. */
    public StoredPage(int validRows, int headDim, float[] rows) {
        this(validRows, headDim, rows, PageFormat.F32);
    }

    public StoredPage {
        if (format == null) {
            throw new IllegalArgumentException("page format must not be null (F32 or BF16)");
        }
        if (validRows < 0 || validRows > PageSerializer.MAX_ROWS) {
            throw new IllegalArgumentException("page validRows=" + validRows + " outside [0, "
                    + PageSerializer.MAX_ROWS + "]");
        }
        if (headDim < 1 || headDim > PageSerializer.MAX_HEAD_DIM) {
            throw new IllegalArgumentException("page headDim=" + headDim + " outside [1, "
                    + PageSerializer.MAX_HEAD_DIM + "]");
        }
        if (rows.length != 2 * validRows * headDim) {
            throw new IllegalArgumentException("page rows.length=" + rows.length + " but validRows="
                    + validRows + " headDim=" + headDim + " need " + 2 * validRows * headDim);
        }
        if (format == PageFormat.BF16) {
            for (int i = 0; i < rows.length; i++) {
                if (Float.floatToRawIntBits(rows[i]) != Float.floatToRawIntBits(PageFormat.widen(PageFormat.narrow(rows[i])))
                        && !Float.isNaN(rows[i])) {
                    throw new IllegalArgumentException("BF16 page value " + rows[i] + " at index " + i
                            + " is not a bfloat16; round with PageFormat.BF16.roundTrip first");
                }
            }
        }
    }

    /** Offset of K row {@code r} in {@link #rows()}. */
    public int keyOffset(int r) {
        return r * headDim;
    }

    /** Offset of V row {@code r} in {@link #rows()}. */
    public int valueOffset(int r) {
        return (validRows + r) * headDim;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StoredPage p && p.validRows == validRows && p.headDim == headDim && p.format == format
                && Arrays.equals(p.rows, rows);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * validRows + headDim) + format.hashCode()) + Arrays.hashCode(rows);
    }

    @Override
    public String toString() {
        return "StoredPage[validRows=" + validRows + ", headDim=" + headDim + ", format=" + format + "]";
    }
}
