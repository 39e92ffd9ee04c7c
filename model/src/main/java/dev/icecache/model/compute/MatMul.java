package dev.icecache.model.compute;

import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.GgmlType;

/**
 * Matrix products {@code out[t][r] = W[r] . x[t]} of a weight matrix (rows x cols, row-major
 * in a {@link FloatTensor}) with a batch of vectors, spread over a {@link ComputePool} by rows.
 * Each weight row is read once for the whole batch: quantized rows are decoded once into
 * per-part scratch and then reused for every vector, F32 rows stay in cache between vectors.
 *
 * <p>One instance per sequence (it holds the scratch and the operands of the running call);
 * not thread-safe.
 */
public final class MatMul implements ComputePool.RangeTask {

    /** Products smaller than this many multiply-adds run on the calling thread. */
    private static final long PARALLEL_THRESHOLD = 1L << 15;
    /** Batches at least this large decode each quantized row once rather than per vector. */
    private static final int DECODE_ROW_BATCH = 4;

    private final ComputePool pool;
    private final float[][] rowScratch; // [part][2][maxCols]: two decoded rows

    private FloatTensor w;
    private float[] x;
    private float[] out;
    private int rows;
    private int cols;
    private int batch;

    /** Scratch for rows of up to {@code maxCols} columns. */
    public MatMul(ComputePool pool, int maxCols) {
        this.pool = pool;
        this.rowScratch = new float[pool.parallelism()][2 * maxCols];
    }

    /**
     * {@code out[t*rows + r] = sum_c W[r*cols + c] * x[t*cols + c]} for t in [0, batch), r in [0, rows).
     */
    public void apply(FloatTensor w, int rows, int cols, float[] x, float[] out, int batch) {
        assert (long) rows * cols <= w.size() : "matrix " + rows + "x" + cols + " exceeds tensor " + w.name();
        this.w = w;
        this.x = x;
        this.out = out;
        this.rows = rows;
        this.cols = cols;
        this.batch = batch;
        if ((long) rows * cols * batch < PARALLEL_THRESHOLD) {
            run(0, rows, 0);
        } else {
            pool.run(rows, this);
        }
        this.w = null;
        this.x = null;
        this.out = null;
    }

    @Override
    public void run(int from, int to, int part) {
        if (batch < DECODE_ROW_BATCH || w.type() == GgmlType.F32) {
            for (int r = from; r < to; r++) {
                long rowOffset = (long) r * cols;
                for (int t = 0; t < batch; t++) {
                    out[t * rows + r] = w.dot(rowOffset, x, t * cols, cols);
                }
            }
            return;
        }
        float[] row = rowScratch[part];
        int r = from;
        // pairs of rows against groups of four vectors: the 2x4 register tile
        for (; r + 2 <= to; r += 2) {
            w.copyTo((long) r * cols, row, 0, 2 * cols);
            int t = 0;
            for (; t + 4 <= batch; t += 4) {
                FloatTensor.dot2x4(row, 0, cols, x, t * cols, cols, cols, out, t * rows + r, rows);
            }
            for (; t < batch; t++) {
                out[t * rows + r] = FloatTensor.dot(row, 0, x, t * cols, cols);
                out[t * rows + r + 1] = FloatTensor.dot(row, cols, x, t * cols, cols);
            }
        }
        for (; r < to; r++) {
            w.copyTo((long) r * cols, row, 0, cols);
            int t = 0;
            for (; t + 4 <= batch; t += 4) {
                FloatTensor.dot4(row, 0, x, t * cols, cols, cols, out, t * rows + r, rows);
            }
            for (; t < batch; t++) {
                out[t * rows + r] = FloatTensor.dot(row, 0, x, t * cols, cols);
            }
        }
    }
}
