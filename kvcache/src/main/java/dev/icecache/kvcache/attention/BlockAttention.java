package dev.icecache.kvcache.attention;

import dev.icecache.kvcache.HeadAttention;
import dev.icecache.kvcache.page.PageFormat;

/**
 * {@link HeadAttention}'s numerics for a tile of queries over rows stored contiguously
 * ({@code keys[i*headDim ..]}, {@code values[i*headDim ..]}, i = 0, 1, ...): the prefill path of
 * a cache that keeps every position of a KV head in one array. Query j of the tile reads its row
 * at {@code q[qAt[j]]}, attends to rows {@code 0 .. limit[j]-1} and writes {@code out[outAt[j]]}.
 *
 * <p>Each query's result has the bits of {@link HeadAttention#attend} over the same rows (tested):
 * the keys are transposed once per block, and each query then accumulates its dot's eight lanes
 * for a chunk of rows at once (lane l = dimensions l, l+8, ... in
 * increasing order, a plain multiply then a plain add, lanes combined pairwise, then scaled),
 * softmax as {@link HeadAttention#softmax}, values accumulated in row order per dimension. Where
 * the JVM has the Vector API (the launcher's default), {@link BlockAttentionVector} takes six or
 * four queries of a tile at a time with its accumulators in registers: the scores with a chunk's rows
 * in vector lanes, the value sums with dimensions in vector lanes over blocks of
 * {@link #VALUE_BLOCK} rows (BENCHMARKS.md: 2.1-2.6x a tile's speed at 4k-64k rows), and the softmax
 * with {@link HeadAttention#softmax}'s operations lane by lane ({@link BlockAttentionVector#softmax}:
 * about 0.8x the attention time of its plain Java in a 64k prefill block, at the median of the runs).
 * Otherwise every inner loop
 * runs over rows or dimensions with stride 1 and the JIT vectorizes it by itself. Lanes never
 * mix either way, so both paths and every vector width give the same bits
 * ({@code -Dicecache.attention.block-vector=false} keeps the scalar loops).
 *
 * <pre>
 *   kt[c][e][r]         = keys[(c*CHUNK + r) * headDim + e]          once per block (all tiles)
 *   acc[e % 8][r]      += q_j[e] * kt[c][e][r]  for e = 0 .. headDim-1  (query j, chunk c = i0/CHUNK)
 *   scores[j][i0 + r]   = (((acc0+acc1) + (acc2+acc3)) + ((acc4+acc5) + (acc6+acc7)))[r] * scale
 *   per query j:  softmax over i &lt; limit[j]; out_j[d] = sum_i w_ij * v_i[d]
 * </pre>
 *
 * A decode step (one position) of a long row run does not transpose every row up front: its
 * one tile would read them once, so {@link #streamStep} transposes each chunk just before scoring
 * it, with the same operations in the same order.
 */
public final class BlockAttention {

    private static final int LANES = 32;
    private static final int CHUNK = 128;
    /** Value rows a tile's queries add before the next ones: 64 rows of head dim 64 are 16 KB, in L1. */
    private static final int VALUE_ROWS = 64;

    /**
     * Rows from which a decode step of four or more queries takes the vector kernels: streamed chunk
     * by chunk for groups of a multiple of four ({@link #streamStep}), else the tile path.
     */
    private static final int DECODE_TILE_ROWS = 512;

    /**
     * Value rows the value sums take for all of a tile's queries before the next ones: 256 rows of
     * head dim 64 are 64 KB, in L2.
     */
    private static final int VALUE_BLOCK = 256;

    /** Whether {@link BlockAttentionVector}'s kernels run (wanted, module present); same bits either way. */
    static final boolean VECTOR = vectorAvailable();
    /** Whether the softmax runs on {@link BlockAttentionVector#softmax} (same bits either way). */
    private static final boolean VECTOR_SOFTMAX = VECTOR && Boolean.parseBoolean(
            System.getProperty("icecache.attention.vector-softmax", "true")) && BlockAttentionVector.softmaxSupported();

    private BlockAttention() {
    }

    private static boolean vectorAvailable() {
        if (!Boolean.parseBoolean(System.getProperty("icecache.attention.block-vector", "true"))) {
            return false;
        }
        try {
            return BlockAttentionVector.hardwareSupported(CHUNK);
        } catch (LinkageError missingModule) {
            // started without --add-modules jdk.incubator.vector: the scalar loops give the same bits
            return false;
        }
    }

    /** Queries per tile. */
    public static int tileSize() {
        return LANES;
    }

    /**
     * One thread's scratch, grown to the longest rows and widest head seen: the kernel's buffers,
     * a tile's query offsets, and contiguous float copies of rows for callers whose rows are
     * elsewhere (BF16 rows widened, gathered pages copied).
     */
    public static final class Scratch {
        float[][][] transposed = new float[0][][]; // [chunk][d][row of the chunk] the block's keys
        final float[][] lanes = new float[8][CHUNK]; // [dot lane][row of the chunk]
        final float[][][] quadLanes = new float[6][8][CHUNK]; // [query of six or four][dot lane][row of the chunk]
        final float[] sumLanes = new float[16]; // the vector softmax's partial sums
        final float[][] weightBlock = new float[VALUE_ROWS][LANES]; // [row of a value block][query of the tile]
        private float[][] valueAcc = new float[0][LANES];         // [dimension][query of the tile]
        float[] scores = new float[0];  // [query][row] scores, then softmax weights
        final int[] qAt = new int[tileSize()];
        final int[] outAt = new int[tileSize()];
        final int[] limit = new int[tileSize()];
        private int[] rowLimits = new int[0];
        private float[] keys = new float[0];
        private float[] values = new float[0];
        float[][] rowRefs = new float[0][];   // a decode step's key rows (all the same array)
        float[][] rowValues = new float[0][]; // and value rows
        int[] rowOffsets = new int[0];        // row i at i * headDim

        void ensure(int rows, int headDim, int queries) {
            int chunks = (rows + CHUNK - 1) / CHUNK;
            if (transposed.length < chunks || transposed.length > 0 && transposed[0].length < headDim) {
                float[][][] grown = new float[Math.max(chunks, 2 * transposed.length)][][];
                for (int c = 0; c < grown.length; c++) {
                    grown[c] = c < transposed.length && transposed[c].length >= headDim ? transposed[c]
                            : new float[headDim][CHUNK];
                }
                transposed = grown;
            }
            scores(rows * queries);
        }

        /** The tile's value sums, one array of {@link #tileSize()} per dimension (contents not kept). */
        float[][] valueAcc(int headDim) {
            if (valueAcc.length < headDim) {
                valueAcc = new float[headDim][LANES];
            }
            return valueAcc;
        }

        /** {@code parts} grown to {@code threads} scratches (the same array when it has enough). */
        public static Scratch[] forThreads(Scratch[] parts, int threads) {
            if (parts.length >= threads) {
                return parts;
            }
            Scratch[] grown = java.util.Arrays.copyOf(parts, threads);
            for (int i = parts.length; i < threads; i++) {
                grown[i] = new Scratch();
            }
            return grown;
        }

        /** The scores buffer, of at least {@code floats} floats (contents not kept when it grows). */
        float[] scores(int floats) {
            if (scores.length < floats) {
                scores = new float[Math.max(floats, 2 * scores.length)];
            }
            return scores;
        }

        /** A key buffer of at least {@code floats} floats (contents not kept when it grows). */
        public float[] keys(int floats) {
            if (keys.length < floats) {
                keys = new float[Math.max(floats, 2 * keys.length)];
            }
            return keys;
        }

        /** A value buffer of at least {@code floats} floats (contents not kept when it grows). */
        public float[] values(int floats) {
            if (values.length < floats) {
                values = new float[Math.max(floats, 2 * values.length)];
            }
            return values;
        }

        /** Per block position, the rows its queries attend to; at least {@code n} entries. */
        public int[] rowLimits(int n) {
            if (rowLimits.length < n) {
                rowLimits = new int[Math.max(n, 2 * rowLimits.length)];
            }
            return rowLimits;
        }
    }

    /** Tiles of {@link #tileSize()} queries that {@code n} positions of {@code heads} heads make. */
    public static int tiles(int n, int heads) {
        return (n * heads + tileSize() - 1) / tileSize();
    }

    /**
     * Every query of one KV head's block: position t (0..n-1) and group head g (0..heads-1) read
     * {@code q[qOff + t*qStride + g*headDim]}, attend to the first {@code rowLimit[t]} rows and
     * write {@code out[outOff + t*outStride + g*headDim]}.
     */
    public static void attendBlock(float[] q, int qOff, int qStride, int heads, int n, int[] rowLimit, float[] keys,
                                   float[] values, int headDim, Scratch scratch, float[] out, int outOff,
                                   int outStride) {
        attendTiles(q, qOff, qStride, heads, n, rowLimit, keys, values, headDim, scratch, out, outOff, outStride, 0,
                tiles(n, heads));
    }

    /**
     * {@link #attendBlock} for tiles {@code fromTile .. toTile-1} only: the queries (t, g) numbered
     * t * heads + g, {@link #tileSize()} to a tile (threads may share a block's tiles out).
     */
    public static void attendTiles(float[] q, int qOff, int qStride, int heads, int n, int[] rowLimit, float[] keys,
                                   float[] values, int headDim, Scratch scratch, float[] out, int outOff,
                                   int outStride, int fromTile, int toTile) {
        int rows = rowsOf(rowLimit, n);
        if (fromTile == 0 && toTile == tiles(1, heads) && streamedStep(n, heads, rows)) {
            streamStep(q, qOff, heads, rows, null, null, keys, values, headDim, scratch, out, outOff);
            return;
        }
        if (fromTile == 0 && toTile == tiles(1, heads) && rowMajorStep(n, heads, rows)) {
            // a decode step over few rows, or without four queries for the vector kernels: one pass
            // of the group's queries over the rows as they lie, since transposing every row for one
            // position writes as much as the attention reads (same bits: the tiles follow
            // HeadAttention's order). Past DECODE_TILE_ROWS rows the four-query kernels win even
            // with the transpose (64k rows, one KV head of group 4: 11.4 -> 8.3 ms; 16k: 2.8 -> 1.3 ms)
            attendRowMajor(q, qOff, heads, rows, keys, values, headDim, scratch, out, outOff);
            return;
        }
        transpose(keys, rows, headDim, scratch);
        runTiles(q, qOff, qStride, heads, n, rowLimit, values, headDim, scratch, out, outOff, outStride, fromTile,
                toTile);
    }

    /**
     * Where key element {@code e} of row {@code row} lies in BF16 keys stored by chunks
     * ({@link #attendBlockBf16}): the rows of a chunk of {@link #keyChunkRows()} transposed, so that
     * one dimension of a chunk's rows is contiguous, as the kernels read it.
     *
     * <pre>
     *   index(row, e) = (row / CHUNK) * CHUNK * headDim + e * CHUNK + row % CHUNK
     * </pre>
     * An array holding {@code rows} rows so has at least {@code ceil(rows / CHUNK) * CHUNK * headDim} elements.
     */
    public static int chunkedKeyIndex(int row, int e, int headDim) {
        return (row / CHUNK) * CHUNK * headDim + e * CHUNK + row % CHUNK;
    }

    /** Rows per chunk of {@link #chunkedKeyIndex}'s layout. */
    public static int keyChunkRows() {
        return CHUNK;
    }

    /**
     * {@link #attendBlock} over rows stored as BF16 bits ({@code PageFormat.BF16}): the keys by
     * chunks as {@link #chunkedKeyIndex} lays them out, the values row after row. Widening is exact,
     * so the bits are those of {@link #attendBlock} over the widened rows.
     *
     * <p>NOTE: why keys by chunks. The kernels read a chunk's keys transposed; stored so, a chunk
     * widens with contiguous vector loads instead of a strided scalar gather, which was a quarter of
     * a decode step's dense attention at 64k rows (BENCHMARKS.md, issue 13, eleventh session).
     */
    public static void attendBlockBf16(float[] q, int qOff, int qStride, int heads, int n, int[] rowLimit,
                                       short[] keys, short[] values, int headDim, Scratch scratch, float[] out,
                                       int outOff, int outStride) {
        int rows = rowsOf(rowLimit, n);
        if (streamedStep(n, heads, rows)) {
            streamStep(q, qOff, heads, rows, keys, values, null, null, headDim, scratch, out, outOff);
            return;
        }
        float[] v = scratch.values(rows * headDim);
        widen(values, 0, rows * headDim, v, 0);
        if (rowMajorStep(n, heads, rows)) {
            float[] k = scratch.keys(rows * headDim);
            for (int i = 0; i < rows; i++) {
                for (int e = 0; e < headDim; e++) {
                    k[i * headDim + e] = PageFormat.widen(keys[chunkedKeyIndex(i, e, headDim)]);
                }
            }
            attendRowMajor(q, qOff, heads, rows, k, v, headDim, scratch, out, outOff);
            return;
        }
        scratch.ensure(rows, headDim, 1);
        for (int i0 = 0, c = 0; i0 < rows; i0 += CHUNK, c++) {
            widenChunk(keys, i0, Math.min(CHUNK, rows - i0), headDim, scratch.transposed[c]);
        }
        runTiles(q, qOff, qStride, heads, n, rowLimit, v, headDim, scratch, out, outOff, outStride, 0, tiles(n, heads));
    }

    /** {@code kt[e][r] = } key e of row {@code i0 + r}, widened, for r &lt; m: the chunk at row i0 of chunked BF16 keys. */
    private static void widenChunk(short[] keys, int i0, int m, int headDim, float[][] kt) {
        int base = i0 * headDim; // i0 is a multiple of CHUNK, so this is where its chunk starts
        for (int e = 0; e < headDim; e++) {
            widen(keys, base + e * CHUNK, m, kt[e], 0);
        }
    }

    /** {@code out[outOff + i] = } the float of BF16 bits {@code bits[from + i]} for i &lt; n (exact). */
    private static void widen(short[] bits, int from, int n, float[] out, int outOff) {
        int i = VECTOR ? BlockAttentionVector.widen(bits, from, n, out, outOff) : 0;
        for (; i < n; i++) {
            out[outOff + i] = PageFormat.widen(bits[from + i]);
        }
    }

    /**
     * A decode step of {@code heads} (a multiple of four) queries over {@code rows} rows, given as
     * BF16 bits ({@code bKeys} by chunks as {@link #chunkedKeyIndex} lays them out, {@code bValues}) or as floats ({@code fKeys}, {@code fValues}; the
     * other pair null). Each chunk of keys is transposed (and widened) into the scratch just before
     * the vector kernels read it, and BF16 values are widened a block at a time, so the rows cross
     * memory once in their stored format. The operations are the tile path's in the same order
     * (scores chunk by chunk, softmax, value sums block by block in row order): the same bits.
     *
     * <p>NOTE: why a path of its own. A prefill block's tiles all reread the keys, so it transposes
     * (and widens) every row once up front. For one position that pass wrote 16 MB of float keys
     * and 16 MB of float values per KV head at 64k BF16 rows and read them back: half of a decode
     * step's dense attention in the profile (BENCHMARKS.md, issue 13, eleventh session).
     */
    private static void streamStep(float[] q, int qOff, int heads, int rows, short[] bKeys, short[] bValues,
                                   float[] fKeys, float[] fValues, int headDim, Scratch scratch, float[] out,
                                   int outOff) {
        scratch.ensure(Math.min(rows, CHUNK), headDim, 1); // one chunk of transposed keys, reused
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float[] s = scratch.scores(rows * heads);
        float[][] kt = scratch.transposed[0];
        float[][][] quad = scratch.quadLanes;
        for (int i0 = 0; i0 < rows; i0 += CHUNK) {
            int m = Math.min(CHUNK, rows - i0);
            if (bKeys != null) {
                widenChunk(bKeys, i0, m, headDim, kt);
            } else {
                transposeChunk(fKeys, i0, m, headDim, kt);
            }
            for (int g = 0; g < heads; g += 4) {
                int qa = qOff + g * headDim;
                BlockAttentionVector.quadLanes(q, qa, qa + headDim, qa + 2 * headDim, qa + 3 * headDim, kt, m, headDim,
                        quad);
                for (int u = 0; u < 4; u++) {
                    BlockAttentionVector.combineLanes(quad[u], m, scale, s, (g + u) * rows + i0);
                }
            }
        }
        for (int g = 0; g < heads; g++) {
            softmax(s, g * rows, rows, scratch);
        }
        java.util.Arrays.fill(out, outOff, outOff + heads * headDim, 0f);
        float[] widened = bValues != null ? scratch.values(VALUE_BLOCK * headDim) : null;
        for (int i0 = 0; i0 < rows; i0 += VALUE_BLOCK) {
            int m = Math.min(VALUE_BLOCK, rows - i0);
            float[] v = fValues;
            int first = i0; // row i0's index in v
            if (bValues != null) {
                widen(bValues, i0 * headDim, m * headDim, widened, 0);
                v = widened;
                first = 0;
            }
            for (int g = 0; g < heads; g += 4) {
                int o = outOff + g * headDim;
                int a = g * rows + i0 - first; // weight of v's row i at s[a + i]
                int done = BlockAttentionVector.quadValues(s, a, a + rows, a + 2 * rows, a + 3 * rows, first, first + m,
                        v, headDim, out, o, o + headDim, o + 2 * headDim, o + 3 * headDim);
                for (int u = 0; u < 4 && done < headDim; u++) {
                    addRows(s, a + u * rows, first, first + m, v, headDim, out, o + u * headDim, done);
                }
            }
        }
    }

    /** The rows a block attends to: the largest of its queries' limits. */
    private static int rowsOf(int[] rowLimit, int n) {
        int rows = 0;
        for (int t = 0; t < n; t++) {
            rows = Math.max(rows, rowLimit[t]);
        }
        return rows;
    }

    /** Whether a block is a decode step that streams its rows through the vector kernels ({@link #streamStep}). */
    private static boolean streamedStep(int n, int heads, int rows) {
        return n == 1 && VECTOR && heads % 4 == 0 && rows >= DECODE_TILE_ROWS;
    }

    /** Whether a block is a decode step that attends row by row (see {@link #attendTiles}). */
    private static boolean rowMajorStep(int n, int heads, int rows) {
        return n == 1 && !(VECTOR && heads >= 4 && rows >= DECODE_TILE_ROWS);
    }

    /** Tiles {@code fromTile .. toTile-1} over keys already in {@code scratch.transposed}. */
    private static void runTiles(float[] q, int qOff, int qStride, int heads, int n, int[] rowLimit, float[] values,
                                 int headDim, Scratch scratch, float[] out, int outOff, int outStride, int fromTile,
                                 int toTile) {
        int lanes = tileSize();
        int total = n * heads;
        for (int tile = fromTile; tile < toTile; tile++) {
            int first = tile * lanes;
            int count = Math.min(lanes, total - first);
            for (int j = 0; j < count; j++) {
                int t = (first + j) / heads;
                int g = (first + j) % heads;
                scratch.qAt[j] = qOff + t * qStride + g * headDim;
                scratch.outAt[j] = outOff + t * outStride + g * headDim;
                scratch.limit[j] = rowLimit[t];
            }
            attendTile(q, scratch.qAt, scratch.limit, count, values, headDim, scratch, out, scratch.outAt);
        }
    }

    /** {@link HeadAttention#attendGroup} of {@code heads} queries over the first {@code rows} rows of one KV head. */
    private static void attendRowMajor(float[] q, int qOff, int heads, int rows, float[] keys, float[] values,
                                       int headDim, Scratch scratch, float[] out, int outOff) {
        if (scratch.rowRefs.length < rows) {
            int cap = Math.max(rows, 2 * scratch.rowRefs.length);
            scratch.rowRefs = new float[cap][];
            scratch.rowValues = new float[cap][];
            scratch.rowOffsets = new int[cap];
        }
        for (int i = 0; i < rows; i++) {
            scratch.rowRefs[i] = keys;
            scratch.rowValues[i] = values;
            scratch.rowOffsets[i] = i * headDim;
        }
        HeadAttention.attendGroup(q, qOff, heads, scratch.rowRefs, scratch.rowOffsets, scratch.rowValues,
                scratch.rowOffsets, rows, headDim, scratch.scores(rows * heads), out, outOff);
    }

    /** scratch.transposed[i / CHUNK][e][i % CHUNK] = keys[i*headDim + e] for rows i &lt; rows. */
    private static void transpose(float[] keys, int rows, int headDim, Scratch scratch) {
        scratch.ensure(rows, headDim, 1);
        for (int i0 = 0, c = 0; i0 < rows; i0 += CHUNK, c++) {
            transposeChunk(keys, i0, Math.min(CHUNK, rows - i0), headDim, scratch.transposed[c]);
        }
    }

    /** {@code kt[e][r] = keys[(i0 + r) * headDim + e]} for r &lt; m: the chunk at row i0 of row-major keys. */
    private static void transposeChunk(float[] keys, int i0, int m, int headDim, float[][] kt) {
        for (int e = 0; e < headDim; e++) {
            float[] row = kt[e];
            for (int r = 0; r < m; r++) {
                row[r] = keys[(i0 + r) * headDim + e];
            }
        }
    }

    /**
     * Attention of {@code count} (at most {@link #tileSize()}) queries over the rows whose keys
     * {@link #transpose} put in the scratch.
     *
     * @param limit per query the number of rows it attends to (its causal prefix), at least 1
     */
    private static void attendTile(float[] q, int[] qAt, int[] limit, int count, float[] values, int headDim,
                                   Scratch scratch, float[] out, int[] outAt) {
        int rows = 0;
        for (int j = 0; j < count; j++) {
            if (limit[j] < 1) {
                throw new IllegalArgumentException("limit[" + j + "]=" + limit[j] + " must be >= 1");
            }
            rows = Math.max(rows, limit[j]);
        }
        scratch.ensure(rows, headDim, count);
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float[] s = scratch.scores;
        float[][] acc = scratch.lanes;
        for (int i0 = 0; i0 < rows; i0 += CHUNK) {
            float[][] kt = scratch.transposed[i0 / CHUNK];
            int cn = Math.min(CHUNK, rows - i0);
            int j = 0;
            if (VECTOR) {
                // four queries per pass over the chunk's keys, the accumulators in registers; a query
                // may get scores past its limit (up to the others'), which softmax and the value
                // sums never read
                float[][][] quad = scratch.quadLanes;
                for (int hex = hexes(count); j < 6 * hex; j += 6) {
                    int m = Math.min(cn, maxLimit(limit, j, 6) - i0);
                    if (m > 0) {
                        BlockAttentionVector.hexLanes(q, qAt, j, kt, m, headDim, quad);
                        for (int u = 0; u < 6; u++) {
                            BlockAttentionVector.combineLanes(quad[u], m, scale, s, (j + u) * rows + i0);
                        }
                    }
                }
                for (; j + 4 <= count; j += 4) {
                    int m = Math.min(cn, Math.max(Math.max(limit[j], limit[j + 1]),
                            Math.max(limit[j + 2], limit[j + 3])) - i0);
                    if (m > 0) {
                        BlockAttentionVector.quadLanes(q, qAt[j], qAt[j + 1], qAt[j + 2], qAt[j + 3], kt, m, headDim,
                                quad);
                        for (int u = 0; u < 4; u++) {
                            BlockAttentionVector.combineLanes(quad[u], m, scale, s, (j + u) * rows + i0);
                        }
                    }
                }
            }
            for (; j < count; j++) {
                int m = Math.min(cn, limit[j] - i0); // rows of this chunk the query attends to
                if (m > 0) {
                    chunkScores(q, qAt[j], kt, m, headDim, acc, scale, s, j * rows + i0);
                }
            }
        }
        for (int j = 0; j < count; j++) {
            softmax(s, j * rows, limit[j], scratch);
        }
        weightedSums(s, rows, count, limit, values, headDim, scratch, out, outAt);
    }

    /**
     * How many groups of six queries a tile of {@code count} takes before its groups of four: as
     * many as leave a multiple of four (32 = 4 x 6 + 2 x 4), none where no number does, so no
     * query falls to the one-query loop that four-query groups alone would have covered.
     */
    static int hexes(int count) {
        for (int hex = count / 6; hex > 0; hex--) {
            if ((count - 6 * hex) % 4 == 0) {
                return hex;
            }
        }
        return 0;
    }

    /** The largest of {@code limit[j .. j+n)}. */
    private static int maxLimit(int[] limit, int j, int n) {
        int max = limit[j];
        for (int u = 1; u < n; u++) {
            max = Math.max(max, limit[j + u]);
        }
        return max;
    }

    /**
     * {@link HeadAttention#softmax}'s bits: on the Vector API where the block kernels run (in the
     * ninth session such loops beside the block kernels made C2 box vectors; the cause was C2's
     * per-method trap limit, which the engine's JVMs now raise), else its plain Java.
     */
    private static void softmax(float[] s, int from, int n, Scratch scratch) {
        if (VECTOR_SOFTMAX) {
            BlockAttentionVector.softmax(s, from, n, scratch.sumLanes);
        } else {
            HeadAttention.softmax(s, from, n);
        }
    }

    /**
     * {@code s[at + r] = dot(q, key r of the chunk) * scale} for the first {@code m} rows of a
     * chunk of transposed keys, the dot in HeadAttention's 8-lane order (dimension e adds to lane e % 8).
     */
    private static void chunkScores(float[] q, int qOff, float[][] kt, int m, int headDim, float[][] acc,
                                    float scale, float[] s, int at) {
        // NOTE: one array per lane and per (chunk, key dimension), all indexed from 0: with offsets
        // into one array, or an offset on one side only, the JIT did not vectorize the row loop
        // (3-4x slower in a micro-benchmark, 1.5x in bench document)
        for (float[] lane : acc) {
            java.util.Arrays.fill(lane, 0, m, 0f);
        }
        int e = 0;
        // dimensions e and e + 8 (the same lane) in one pass over the rows: half the lane loads and
        // stores, and each lane still adds its terms in increasing dimension order
        for (; e + 16 <= headDim; e += 16) {
            for (int l = 0; l < 8; l++) {
                float qa = q[qOff + e + l];
                float qb = q[qOff + e + 8 + l];
                float[] ka = kt[e + l];
                float[] kb = kt[e + 8 + l];
                float[] lane = acc[l];
                for (int r = 0; r < m; r++) {
                    lane[r] = lane[r] + qa * ka[r] + qb * kb[r];
                }
            }
        }
        for (; e < headDim; e++) {
            float qe = q[qOff + e];
            float[] lane = acc[e & 7];
            float[] k = kt[e];
            for (int r = 0; r < m; r++) {
                lane[r] += qe * k[r];
            }
        }
        combineLanes(acc, 0, m, scale, s, at);
    }

    /** {@code s[at + r] = (((a0+a1)+(a2+a3))+((a4+a5)+(a6+a7)))[r] * scale} for rows {@code from .. m-1}. */
    static void combineLanes(float[][] acc, int from, int m, float scale, float[] s, int at) {
        float[] a0 = acc[0];
        float[] a1 = acc[1];
        float[] a2 = acc[2];
        float[] a3 = acc[3];
        float[] a4 = acc[4];
        float[] a5 = acc[5];
        float[] a6 = acc[6];
        float[] a7 = acc[7];
        for (int r = from; r < m; r++) {
            s[at + r] = (((a0[r] + a1[r]) + (a2[r] + a3[r])) + ((a4[r] + a5[r]) + (a6[r] + a7[r]))) * scale;
        }
    }

    /**
     * out_j[d] = 0 + w_j0 v_0[d] + w_j1 v_1[d] + ... in row order for every query j of the tile
     * (w_ji = s[j*rows + i], rows i &lt; limit[j]). Rows every query attends to (below the tile's
     * smallest limit) go through the queries at once: acc[d][j] += w[i][j] * v_i[d], a stride-1
     * loop over the tile's queries on arrays indexed from 0, which the JIT vectorizes (a loop over d
     * with the output and the value row at offsets was left scalar: 65% of a 16k prefill block's
     * attention, JFR); a block of {@link #VALUE_ROWS} weights is transposed for it first. The few
     * rows past that (the tile's causal tail) are added per query after them. Either way each
     * out_j[d] adds its terms in row order, a multiply then an add: the bits of HeadAttention.
     */
    private static void weightedSums(float[] s, int rows, int count, int[] limit, float[] values, int headDim,
                                     Scratch scratch, float[] out, int[] outAt) {
        int common = rows;
        for (int j = 0; j < count; j++) {
            common = Math.min(common, limit[j]);
        }
        if (VECTOR) {
            quadSums(s, rows, count, limit, common, values, headDim, out, outAt);
            return;
        }
        float[][] acc = scratch.valueAcc(headDim);
        float[][] w = scratch.weightBlock;
        for (int d = 0; d < headDim; d++) {
            java.util.Arrays.fill(acc[d], 0, count, 0f);
        }
        for (int i0 = 0; i0 < common; i0 += VALUE_ROWS) {
            int m = Math.min(VALUE_ROWS, common - i0);
            for (int j = 0; j < count; j++) {
                int a = j * rows + i0;
                for (int r = 0; r < m; r++) {
                    w[r][j] = s[a + r];
                }
            }
            for (int r = 0; r < m; r++) {
                float[] wr = w[r];
                int vo = (i0 + r) * headDim;
                int d = 0;
                // four dimensions per pass over the queries: one load of the weights for four sums
                for (; d + 4 <= headDim; d += 4) {
                    float x0 = values[vo + d];
                    float x1 = values[vo + d + 1];
                    float x2 = values[vo + d + 2];
                    float x3 = values[vo + d + 3];
                    float[] l0 = acc[d];
                    float[] l1 = acc[d + 1];
                    float[] l2 = acc[d + 2];
                    float[] l3 = acc[d + 3];
                    for (int j = 0; j < count; j++) {
                        float wj = wr[j];
                        l0[j] += wj * x0;
                        l1[j] += wj * x1;
                        l2[j] += wj * x2;
                        l3[j] += wj * x3;
                    }
                }
                for (; d < headDim; d++) {
                    float x = values[vo + d];
                    float[] lane = acc[d];
                    for (int j = 0; j < count; j++) {
                        lane[j] += wr[j] * x;
                    }
                }
            }
        }
        for (int j = 0; j < count; j++) {
            int o = outAt[j];
            for (int d = 0; d < headDim; d++) {
                out[o + d] = acc[d][j];
            }
            int a = j * rows;
            for (int i = common; i < limit[j]; i++) {
                float wi = s[a + i];
                int vo = i * headDim;
                for (int d = 0; d < headDim; d++) {
                    out[o + d] += wi * values[vo + d];
                }
            }
        }
    }

    /**
     * {@link #weightedSums} with {@link BlockAttentionVector#quadValues}: four queries at a time
     * over rows below the tile's smallest limit, {@link #VALUE_BLOCK} rows at a time for all of them
     * (the block's values stay in cache), then per query the dimensions past the vectors and the
     * rows past the common ones; queries past the last four go row by row. Each out_j[d] still adds
     * its terms in row order from 0f.
     */
    private static void quadSums(float[] s, int rows, int count, int[] limit, int common, float[] values,
                                 int headDim, float[] out, int[] outAt) {
        int quads = count / 4 * 4;
        for (int j = 0; j < count; j++) {
            java.util.Arrays.fill(out, outAt[j], outAt[j] + headDim, 0f);
        }
        int done = 0; // dimensions the vectors cover
        for (int i0 = 0; i0 < common; i0 += VALUE_BLOCK) {
            int i1 = Math.min(common, i0 + VALUE_BLOCK);
            for (int j = 0; j < quads; j += 4) {
                done = BlockAttentionVector.quadValues(s, j * rows, (j + 1) * rows, (j + 2) * rows, (j + 3) * rows, i0,
                        i1, values, headDim, out, outAt[j], outAt[j + 1], outAt[j + 2], outAt[j + 3]);
            }
        }
        for (int j = 0; j < count; j++) {
            int o = outAt[j];
            int from = j < quads ? done : 0;
            if (from < headDim) {
                addRows(s, j * rows, 0, j < quads ? common : limit[j], values, headDim, out, o, from);
            }
            if (j < quads) {
                addRows(s, j * rows, common, limit[j], values, headDim, out, o, 0);
            }
        }
    }

    /** {@code out[o + d] += s[a + i] * v_i[d]} for rows {@code from .. to-1} in order, dimensions {@code d0 ..}. */
    private static void addRows(float[] s, int a, int from, int to, float[] values, int headDim, float[] out, int o,
                                int d0) {
        for (int i = from; i < to; i++) {
            float wi = s[a + i];
            int vo = i * headDim;
            for (int d = d0; d < headDim; d++) {
                out[o + d] += wi * values[vo + d];
            }
        }
    }
}
