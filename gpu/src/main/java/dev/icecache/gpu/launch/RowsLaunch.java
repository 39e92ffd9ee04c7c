package dev.icecache.gpu.launch;

import dev.icecache.kvcache.page.PageLayout;

/**
 * The launches of {@code write_rows} and {@code copy_rows} (pages.cu): one block per KV head (write)
 * or per copied row (copy), threads over the head dimension. A row index is
 * {@code slot * rowsPerPage + row}; its K row starts at float {@code slot * floatsPerPage + row * headDim}
 * and its V row {@code rowsPerPage * headDim} floats later ({@link PageLayout}).
 *
 * @param layout the pool's page layout
 */
public record RowsLaunch(PageLayout layout) {

    public RowsLaunch {
        if (layout == null) {
            throw new IllegalArgumentException("rows launch needs a page layout");
        }
    }

    /** Threads per block: the head dimension rounded up to a warp, at most 1024. */
    public int threads() {
        return Math.min(1024, (layout.headDim() + 31) / 32 * 32);
    }

    /** write_rows: one block per KV head. */
    public LaunchDims writeDims(int nKvHeads) {
        return LaunchDims.of(nKvHeads, 1, threads());
    }

    /** copy_rows: one block per copied row. */
    public LaunchDims copyDims(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("copy_rows of n=" + n + " rows must be >= 1");
        }
        return LaunchDims.of(n, 1, threads());
    }

    /** Element index of value d of the K row of row index {@code rowIndex}. */
    public long keyIndex(int rowIndex, int d) {
        int rows = layout.rowsPerPage();
        return (long) (rowIndex / rows) * layout.floatsPerPage() + (long) (rowIndex % rows) * layout.headDim() + d;
    }

    /** Element index of value d of the V row of row index {@code rowIndex}. */
    public long valueIndex(int rowIndex, int d) {
        return keyIndex(rowIndex, d) + (long) layout.rowsPerPage() * layout.headDim();
    }
}
