package dev.icecache.model.compute;

import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.FixedLaneDot;
import dev.icecache.model.tensor.PanelTile;
import dev.icecache.model.tensor.Q8Activations;
import dev.icecache.model.tensor.Q8KActivations;
import dev.icecache.model.tensor.Q8KDot;
import dev.icecache.model.tensor.Q8_0Tensor;

/**
 * Matrix products {@code out[t][r] = W[r] . x[t]} of a weight matrix (rows x cols, row-major
 * in a {@link FloatTensor}) with a batch of vectors, spread over a {@link ComputePool} by rows.
 * Each weight row is read once for the whole batch: quantized rows are decoded once into
 * per-part scratch and then reused for every vector, F32 rows stay in cache between vectors.
 *
 * Batches of four or more on quantized weights run on {@link PanelTile}: the vectors are
 * interleaved in panels of sixteen once per call, each part decodes four weight rows at a time,
 * 256 columns at a time, and multiplies them with every panel; each product is one multiply-add
 * chain in column order, the same bits at every vector width. Batches
 * of four or more on F32, F16 and BF16 weights run on a 4 rows x 4 vectors register tile
 * ({@link FixedLaneDot#dot4x4}) over decoded rows, which gives every product the bits of
 * {@link FixedLaneDot#dot}: the same bits as a decode step on those weights, at every vector width.
 *
 * <p>Q8_0 weights times fewer vectors than that (decoding) take llama.cpp's route unless the
 * system property {@code icecache.q8.int8-activations} is false: each vector is quantized to
 * Q8_0 once per call and every row is an int8 x int8 dot product ({@link Q8_0Tensor#dotQ8}),
 * which reads a quarter of the bytes of the float vector. That changes results by the
 * activations' quantization error (at most half a block scale per element, as in llama.cpp;
 * about 1% of a logit's scale on the random test models), so a Q8_0 prefill, which multiplies
 * in float, and a decode of the same positions differ by that much. With the system property
 * {@code icecache.kquant.int8-activations} (on by default, false turns it off), K-quant
 * weights (Q4_K, Q5_K, Q6_K) whose rows are whole 256-element super-blocks do the same with Q8_K
 * blocks on ggml's grid ({@link Q8KDot#dotQ8K}), as llama.cpp does. F32, F16 and BF16
 * weights (stories260K, iceeval-1m) are not affected.
 *
 * <p>One instance per sequence (it holds the scratch and the operands of the running call);
 * not thread-safe.
 */
public final class MatMul implements ComputePool.RangeTask {

    /** Products smaller than this many multiply-adds run on the calling thread. */
    private static final long PARALLEL_THRESHOLD = 1L << 15;
    /** Batches at least this large decode each quantized row once rather than per vector. */
    private static final int DECODE_ROW_BATCH = 4;
    /** Whether Q8_0 decode products quantize the vectors and multiply in int8. */
    private static final boolean INT8_ACTIVATIONS =
            Boolean.parseBoolean(System.getProperty("icecache.q8.int8-activations", "true"));
    /** Whether K-quant decode products do too (and Q8_0 ones are on). */
    private static final boolean KQUANT_INT8 = INT8_ACTIVATIONS
            && Boolean.parseBoolean(System.getProperty("icecache.kquant.int8-activations", "true"));

    private final ComputePool pool;
    private final float[][] rowScratch; // [part][4][maxCols]: four decoded rows
    private final float[][] tileScratch; // [part][FixedLaneDot.TILE_SCRATCH]: the tile's lanes
    private final Q8Activations quantizedX; // the batch's vectors, back to back, on the int8 path
    private final Q8KActivations quantizedK; // the same in Q8_K blocks, for K-quant weights
    private final float[][] decodedRows; // [part][PanelTile.ROW_FLOATS]: four rows' chunk of columns
    private final float[][] accumulators; // [part][panels * PANEL_FLOATS]: four rows' products; grows with the batch
    private float[] packed = new float[0]; // the batch's vectors in panels of sixteen; grows with the batch

    private FloatTensor w;
    private Q8_0Tensor q8w; // w while the int8 path runs, else null
    private Q8KDot kw; // w while the K-quant int8 path runs, else null
    private boolean onPanels; // whether this call runs on PanelTile (parts take tiles of four rows, not rows)
    private float[] x;
    private float[] out;
    private int rows;
    private int cols;
    private int batch;

    /** Whether decode products on Q8_0 weights multiply in int8 (system property {@code icecache.q8.int8-activations}, default true). */
    public static boolean int8ActivationsByDefault() {
        return INT8_ACTIVATIONS;
    }

    /**
     * Whether decode products on K-quant weights multiply in int8 (system property
     * {@code icecache.kquant.int8-activations}, default true, and only with the Q8_0 one on).
     * {@code LogitMarginParityTest} measures llama.cpp's logit margins with it on and off: both
     * stay within the per-type tolerances (BENCHMARKS.md, "Logit-margin parity").
     */
    public static boolean kquantInt8ByDefault() {
        return KQUANT_INT8;
    }

    /** Scratch for rows of up to {@code maxCols} columns; the int8 paths as the system properties say. */
    public MatMul(ComputePool pool, int maxCols) {
        this(pool, maxCols, INT8_ACTIVATIONS, KQUANT_INT8);
    }

    /** Scratch for rows of up to {@code maxCols} columns; {@code int8Activations} picks the Q8_0 decode path. */
    public MatMul(ComputePool pool, int maxCols, boolean int8Activations) {
        this(pool, maxCols, int8Activations, false);
    }

    /**
     * Scratch for rows of up to {@code maxCols} columns; {@code int8Activations} picks the Q8_0
     * decode path, {@code kquantInt8} the K-quant one.
     */
    public MatMul(ComputePool pool, int maxCols, boolean int8Activations, boolean kquantInt8) {
        this.pool = pool;
        this.rowScratch = new float[pool.parallelism()][4 * maxCols];
        this.tileScratch = new float[pool.parallelism()][FixedLaneDot.TILE_SCRATCH];
        int blocks = (maxCols + Q8Activations.BLOCK - 1) / Q8Activations.BLOCK;
        this.quantizedX = new Q8Activations(int8Activations ? (DECODE_ROW_BATCH - 1) * blocks * Q8Activations.BLOCK : 0);
        int superBlocks = maxCols / Q8KActivations.BLOCK; // rows of other lengths multiply in float
        this.quantizedK = new Q8KActivations(kquantInt8 ? (DECODE_ROW_BATCH - 1) * superBlocks * Q8KActivations.BLOCK : 0);
        this.decodedRows = new float[pool.parallelism()][PanelTile.ROW_FLOATS];
        this.accumulators = new float[pool.parallelism()][0];
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
        this.q8w = null; // also after a call that threw
        this.kw = null;
        this.onPanels = false;
        if (w instanceof Q8_0Tensor q && batch < DECODE_ROW_BATCH && cols % Q8Activations.BLOCK == 0
                && (long) batch * cols <= quantizedX.capacity()) {
            for (int t = 0; t < batch; t++) {
                quantizedX.quantize(x, t * cols, cols, t * cols);
            }
            this.q8w = q;
        } else if (w instanceof Q8KDot k && batch < DECODE_ROW_BATCH && cols % Q8KActivations.BLOCK == 0
                && (long) batch * cols <= quantizedK.capacity()) {
            for (int t = 0; t < batch; t++) {
                quantizedK.quantize(x, t * cols, cols, t * cols);
            }
            this.kw = k;
        } else if (batch >= DECODE_ROW_BATCH && w.type().blockSize() > 1) {
            preparePanels();
            return;
        }
        if ((long) rows * cols * batch < PARALLEL_THRESHOLD) {
            run(0, rows, 0);
        } else {
            pool.run(rows, this);
        }
        this.w = null;
        this.q8w = null;
        this.kw = null;
        this.x = null;
        this.out = null;
    }

    /** Packs the vectors, then the parts take the tiles of four rows. */
    private void preparePanels() {
        int need = PanelTile.packedFloats(cols, batch);
        if (packed.length < need) {
            packed = new float[need]; // once per larger batch: a prefill's batch is fixed
        }
        PanelTile.packVectors(x, cols, batch, packed);
        this.onPanels = true;
        int tiles = (rows + PanelTile.ROWS - 1) / PanelTile.ROWS;
        try {
            if ((long) rows * cols * batch < PARALLEL_THRESHOLD) {
                run(0, tiles, 0);
            } else {
                pool.run(tiles, this);
            }
        } finally {
            this.onPanels = false;
            this.w = null;
            this.x = null;
            this.out = null;
        }
    }

    /** Tiles {@code [from, to)} of four rows: each chunk of columns decoded once, against every panel of vectors. */
    private void runPanels(int from, int to, int part) {
        float[] decoded = decodedRows[part];
        int panels = PanelTile.panels(batch);
        float[] acc = accumulators[part];
        if (acc.length < panels * PanelTile.PANEL_FLOATS) {
            acc = new float[panels * PanelTile.PANEL_FLOATS];
            accumulators[part] = acc;
        }
        for (int tile = from; tile < to; tile++) {
            int row = tile * PanelTile.ROWS;
            int nRows = Math.min(PanelTile.ROWS, rows - row);
            java.util.Arrays.fill(acc, 0, panels * PanelTile.PANEL_FLOATS, 0f);
            for (int col = 0; col < cols; col += PanelTile.CHUNK) {
                int n = Math.min(PanelTile.CHUNK, cols - col);
                PanelTile.decodeRows(w, row, nRows, cols, col, n, decoded);
                PanelTile.multiply(decoded, n, packed, col, cols, panels, acc);
            }
            for (int t = 0; t < batch; t++) {
                int a = (t / PanelTile.VECTORS) * PanelTile.PANEL_FLOATS + t % PanelTile.VECTORS;
                for (int j = 0; j < nRows; j++) {
                    out[t * rows + row + j] = acc[a + j * PanelTile.VECTORS];
                }
            }
        }
    }

    @Override
    public void run(int from, int to, int part) {
        if (onPanels) {
            runPanels(from, to, part);
            return;
        }
        if (q8w != null) {
            for (int r = from; r < to; r++) {
                long rowOffset = (long) r * cols;
                for (int t = 0; t < batch; t++) {
                    out[t * rows + r] = q8w.dotQ8(rowOffset, quantizedX, t * cols, cols);
                }
            }
            return;
        }
        if (kw != null) {
            for (int r = from; r < to; r++) {
                long rowOffset = (long) r * cols;
                for (int t = 0; t < batch; t++) {
                    out[t * rows + r] = kw.dotQ8K(rowOffset, quantizedK, t * cols, cols);
                }
            }
            return;
        }
        if (batch < DECODE_ROW_BATCH) {
            for (int r = from; r < to; r++) {
                long rowOffset = (long) r * cols;
                for (int t = 0; t < batch; t++) {
                    out[t * rows + r] = w.dot(rowOffset, x, t * cols, cols);
                }
            }
            return;
        }
        float[] row = rowScratch[part];
        float[] tile = tileScratch[part];
        int r = from;
        // four decoded rows against groups of four vectors: the 4x4 register tile
        for (; r + 4 <= to; r += 4) {
            w.copyTo((long) r * cols, row, 0, 4 * cols);
            int t = 0;
            for (; t + 4 <= batch; t += 4) {
                FixedLaneDot.dot4x4(row, 0, cols, x, t * cols, cols, cols, out, t * rows + r, rows, tile);
            }
            for (; t < batch; t++) {
                for (int j = 0; j < 4; j++) {
                    out[t * rows + r + j] = FixedLaneDot.dot(row, j * cols, x, t * cols, cols);
                }
            }
        }
        for (; r < to; r++) {
            w.copyTo((long) r * cols, row, 0, cols);
            for (int t = 0; t < batch; t++) {
                out[t * rows + r] = FixedLaneDot.dot(row, 0, x, t * cols, cols);
            }
        }
    }
}
