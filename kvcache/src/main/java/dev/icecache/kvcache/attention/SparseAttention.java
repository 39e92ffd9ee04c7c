package dev.icecache.kvcache.attention;

import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.HeadAttention;
import dev.icecache.kvcache.page.PageLayout;
import java.util.Arrays;

/**
 * Attention of the query heads of one KV head over a sparse set of rows: sink, selected pages
 * (valid rows only), window and the rows of the current chunk, gathered by reference (no row is
 * copied), sorted by position, and reduced with {@link HeadAttention#attend} so that attending to
 * every position gives bit for bit the result of {@code FullCache} (KvCache's numerics rule).
 *
 * <pre>
 *   clear() ; addRow/addPage ... (any order) ; attend(q head 0) ; attend(q head 1) ; ...
 *   rows:  [position | source array, K offset, V offset]   sorted by position on the first attend
 * </pre>
 *
 * Reused across calls: buffers grow to the largest row count seen and nothing is allocated after.
 */
public final class SparseAttention {

    private final int headDim;
    private int rows;
    private long[] order = new long[64];     // [row] position << 32 | insertion index, sorted
    private float[][] kSrc = new float[64][]; // [insertion index] array holding the K row
    private float[][] vSrc = new float[64][];
    private int[] kAt = new int[64];
    private int[] vAt = new int[64];
    private float[][] kRows = new float[64][]; // [sorted row]
    private float[][] vRows = new float[64][];
    private int[] kOff = new int[64];
    private int[] vOff = new int[64];
    private float[] att = new float[64];
    private boolean sorted;

    /** Attention over rows of {@code headDim} floats. */
    public SparseAttention(int headDim) {
        Checks.checkArgument(headDim > 0, "headDim=%d must be > 0", headDim);
        this.headDim = headDim;
    }

    /** Forgets every row. */
    public void clear() {
        rows = 0;
        sorted = false;
    }

    /** Rows added since {@link #clear()}. */
    public int rows() {
        return rows;
    }

    /** Adds one row: its K at {@code k[kOffset]}, its V at {@code v[vOffset]}. */
    public void addRow(int position, float[] k, int kOffset, float[] v, int vOffset) {
        if (position < 0) {
            throw new IllegalArgumentException(String.format("position=%d must be >= 0", position));
        }
        if (rows == order.length) {
            grow(rows * 2);
        }
        order[rows] = ((long) position << 32) | rows;
        kSrc[rows] = k;
        vSrc[rows] = v;
        kAt[rows] = kOffset;
        vAt[rows] = vOffset;
        rows++;
        sorted = false;
    }

    /**
     * Adds the valid rows of a page block at {@code data[blockOff]} whose position is at most
     * {@code maxPosition}; row r's position is {@code positions[r]}.
     */
    public void addPage(PageLayout layout, float[] data, int blockOff, int[] positions, int validRows,
                        int maxPosition) {
        for (int r = 0; r < validRows; r++) {
            if (positions[r] <= maxPosition) {
                addRow(positions[r], data, blockOff + layout.keyOffset(r), data, blockOff + layout.valueOffset(r));
            }
        }
    }

    /**
     * Attention of the query row at {@code q[qOff]} over every row added, written to
     * {@code out[outOff .. outOff + headDim)}.
     */
    public void attend(float[] q, int qOff, float[] out, int outOff) {
        attendGroup(q, qOff, 1, out, outOff);
    }

    /**
     * Attention of {@code heads} query rows at {@code q[qOff + g*headDim]} (the query heads of one
     * KV head) over every row added, head g written to {@code out[outOff + g*headDim ..]}; each row
     * is read once for the group, every head gets the bits of {@link #attend}.
     */
    public void attendGroup(float[] q, int qOff, int heads, float[] out, int outOff) {
        attendPrefix(q, qOff, heads, rows, out, outOff);
    }

    /**
     * As {@link #attendGroup} over the first {@code n} rows in position order only (a query inside a
     * prefill block sees the block's rows up to its own position, which sort last).
     */
    public void attendPrefix(float[] q, int qOff, int heads, int n, float[] out, int outOff) {
        if (rows == 0) {
            throw new IllegalStateException("attend over zero rows; add the query's own position first");
        }
        if (n <= 0 || n > rows) {
            throw new IllegalArgumentException(String.format("attend over %d rows; there are %d", n, rows));
        }
        if (!sorted) {
            sortRows();
        }
        if (att.length < heads * n) {
            att = new float[Math.max(heads * n, 2 * att.length)];
        }
        HeadAttention.attendGroup(q, qOff, heads, kRows, kOff, vRows, vOff, n, headDim, att, out, outOff);
    }

    /**
     * Every query of a block over the rows added, in tiles ({@link BlockAttention}): query head g
     * of block position t (position {@code position + t}, t &lt; n) at
     * {@code q[qOff + t*stride + g*headDim]} attends to the sorted rows up to its position and
     * writes {@code out[outOff + t*stride + g*headDim]}, with the bits of {@link #attendPrefix}.
     * The sorted rows are copied into the scratch first (contiguous rows for the vector kernel).
     */
    public void attendBlock(float[] q, int qOff, int stride, int heads, int position, int n, float[] out, int outOff,
                            BlockAttention.Scratch scratch) {
        if (rows == 0) {
            throw new IllegalStateException("attend over zero rows; add the query's own position first");
        }
        if (!sorted) {
            sortRows();
        }
        int[] rowLimit = scratch.rowLimits(n);
        int used = 0;
        for (int t = 0; t < n; t++) {
            rowLimit[t] = rowsUpTo(position + t);
            if (rowLimit[t] == 0) {
                throw new IllegalStateException("no row at or before position " + (position + t));
            }
            used = Math.max(used, rowLimit[t]);
        }
        float[] k = scratch.keys(used * headDim);
        float[] v = scratch.values(used * headDim);
        for (int i = 0; i < used; i++) {
            System.arraycopy(kRows[i], kOff[i], k, i * headDim, headDim);
            System.arraycopy(vRows[i], vOff[i], v, i * headDim, headDim);
        }
        BlockAttention.attendBlock(q, qOff, stride, heads, n, rowLimit, k, v, headDim, scratch, out, outOff, stride);
    }

    /** Sorted rows whose position is at most {@code position} (rows are sorted on first use). */
    public int rowsUpTo(int position) {
        if (!sorted) {
            sortRows();
        }
        int lo = 0;
        int hi = rows;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if ((int) (order[mid] >>> 32) <= position) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Position of sorted row {@code i} (after an {@link #attend}). */
    public int position(int i) {
        Checks.checkIndex(i, rows);
        return (int) (order[i] >>> 32);
    }

    /** Softmax weight of sorted row {@code i} for the first query head of the last attend. */
    public float weight(int i) {
        Checks.checkIndex(i, rows);
        return att[i];
    }

    private void sortRows() {
        boolean ascending = true;
        for (int i = 1; i < rows && ascending; i++) {
            ascending = order[i - 1] < order[i];
        }
        if (!ascending) {
            heapSort(order, rows);
        }
        for (int i = 0; i < rows; i++) {
            assert i == 0 || (order[i - 1] >>> 32) != (order[i] >>> 32) : "position added twice: " + (order[i] >>> 32);
            int src = (int) order[i];
            kRows[i] = kSrc[src];
            vRows[i] = vSrc[src];
            kOff[i] = kAt[src];
            vOff[i] = vAt[src];
        }
        sorted = true;
    }

    /** In-place heap sort (JDK sorts may allocate merge buffers; this path must not). */
    private static void heapSort(long[] a, int n) {
        for (int i = n / 2 - 1; i >= 0; i--) {
            siftDown(a, i, n);
        }
        for (int end = n - 1; end > 0; end--) {
            long t = a[0];
            a[0] = a[end];
            a[end] = t;
            siftDown(a, 0, end);
        }
    }

    private static void siftDown(long[] a, int i, int n) {
        while (true) {
            int c = 2 * i + 1;
            if (c >= n) {
                return;
            }
            if (c + 1 < n && a[c + 1] > a[c]) {
                c++;
            }
            if (a[i] >= a[c]) {
                return;
            }
            long t = a[i];
            a[i] = a[c];
            a[c] = t;
            i = c;
        }
    }

    private void grow(int cap) {
        order = Arrays.copyOf(order, cap);
        kSrc = Arrays.copyOf(kSrc, cap);
        vSrc = Arrays.copyOf(vSrc, cap);
        kAt = Arrays.copyOf(kAt, cap);
        vAt = Arrays.copyOf(vAt, cap);
        kRows = Arrays.copyOf(kRows, cap);
        vRows = Arrays.copyOf(vRows, cap);
        kOff = Arrays.copyOf(kOff, cap);
        vOff = Arrays.copyOf(vOff, cap);
    }
}
