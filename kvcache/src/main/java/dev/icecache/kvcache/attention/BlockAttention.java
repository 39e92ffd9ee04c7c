package dev.icecache.kvcache.attention;

import dev.icecache.kvcache.HeadAttention;

/**
 * {@link HeadAttention}'s numerics for a tile of queries over rows stored contiguously
 * ({@code keys[i*headDim ..]}, {@code values[i*headDim ..]}, i = 0, 1, ...): the prefill path of
 * a cache that keeps every position of a KV head in one array. Query j of the tile reads its row
 * at {@code q[qAt[j]]}, attends to rows {@code 0 .. limit[j]-1} and writes {@code out[outAt[j]]}.
 *
 * <p>Each query's result has the bits of {@link HeadAttention#attend} over the same rows (tested):
 * the Vector API kernel puts one query in each lane of a 256-bit vector, so every lane runs the
 * scalar code's own sequence of float multiplies and adds (the 8-lane dot order, scale, softmax in
 * row order, values accumulated in row order per dimension), whatever the vector width. The keys are read
 * once per tile rather than once per query, and the exponentials stay {@link Math#exp} (scalar),
 * as in every other kernel.
 *
 * <pre>
 *   scores[i*lanes + j] = dot(q_j, k_i) * scale          (vector over the tile's queries)
 *   per query j:  softmax over i &lt; limit[j]; out_j = sum_i w_ij * v_i   (vector over dimensions)
 * </pre>
 *
 * {@code -Dicecache.vectorBitSize=0} (as for the model's kernels), a JVM without the
 * {@code jdk.incubator.vector} module, or a head size that is not a multiple of 8 (scores only)
 * runs the scalar code, with the same bits.
 */
public final class BlockAttention {

    private static final int SCALAR_LANES = 8;
    private static final boolean VECTOR = vectorAvailable();

    private BlockAttention() {
    }

    private static boolean vectorAvailable() {
        if (Integer.getInteger("icecache.vectorBitSize", -1) == 0) {
            return false;
        }
        try {
            return BlockAttentionVector.hardwareSupported();
        } catch (LinkageError missingModule) {
            return false; // started without --add-modules jdk.incubator.vector: the scalar code gives the same bits
        }
    }

    /** Queries per tile: the lanes of one float vector (8 for the scalar code). */
    public static int lanes() {
        return VECTOR ? BlockAttentionVector.lanes() : SCALAR_LANES;
    }

    /**
     * One thread's scratch, grown to the longest rows and widest head seen: the kernel's buffers,
     * a tile's query offsets, and contiguous float copies of rows for callers whose rows are
     * elsewhere (BF16 rows widened, gathered pages copied).
     */
    public static final class Scratch {
        float[] queries = new float[0]; // [d][lane] the tile's queries, transposed
        float[] scores = new float[0];  // [row][lane] scores, then softmax weights
        final int[] qAt = new int[lanes()];
        final int[] outAt = new int[lanes()];
        final int[] limit = new int[lanes()];
        private int[] rowLimits = new int[0];
        private float[] keys = new float[0];
        private float[] values = new float[0];

        void ensure(int rows, int headDim, int lanes) {
            if (queries.length < headDim * lanes) {
                queries = new float[headDim * lanes];
            }
            if (scores.length < rows * lanes) {
                scores = new float[Math.max(rows * lanes, 2 * scores.length)];
            }
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

    /** Tiles of {@link #lanes()} queries that {@code n} positions of {@code heads} heads make. */
    public static int tiles(int n, int heads) {
        return (n * heads + lanes() - 1) / lanes();
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
     * t * heads + g, {@link #lanes()} to a tile (threads may share a block's tiles out).
     */
    public static void attendTiles(float[] q, int qOff, int qStride, int heads, int n, int[] rowLimit, float[] keys,
                                   float[] values, int headDim, Scratch scratch, float[] out, int outOff,
                                   int outStride, int fromTile, int toTile) {
        int lanes = lanes();
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
            attendTile(q, scratch.qAt, scratch.limit, count, keys, values, headDim, scratch, out, scratch.outAt);
        }
    }

    /**
     * Attention of {@code count} (at most {@link #lanes()}) queries over the contiguous rows.
     *
     * @param limit per query the number of rows it attends to (its causal prefix), at least 1
     */
    public static void attendTile(float[] q, int[] qAt, int[] limit, int count, float[] keys, float[] values,
                                  int headDim, Scratch scratch, float[] out, int[] outAt) {
        int lanes = lanes();
        if (count < 1 || count > lanes) {
            throw new IllegalArgumentException("count=" + count + " must be in [1, " + lanes + "]");
        }
        int rows = 0;
        for (int j = 0; j < count; j++) {
            if (limit[j] < 1) {
                throw new IllegalArgumentException("limit[" + j + "]=" + limit[j] + " must be >= 1");
            }
            rows = Math.max(rows, limit[j]);
        }
        scratch.ensure(rows, headDim, lanes);
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float[] s = scratch.scores;
        if (VECTOR && headDim % 8 == 0) {
            float[] qt = scratch.queries;
            for (int d = 0; d < headDim; d++) {
                for (int j = 0; j < lanes; j++) {
                    qt[d * lanes + j] = j < count ? q[qAt[j] + d] : 0f;
                }
            }
            BlockAttentionVector.scores(qt, keys, rows, headDim, scale, s);
        } else {
            for (int j = 0; j < count; j++) {
                for (int i = 0; i < limit[j]; i++) {
                    s[i * lanes + j] = HeadAttention.scalarDot(q, qAt[j], keys, i * headDim, headDim) * scale;
                }
            }
        }
        for (int j = 0; j < count; j++) {
            int n = limit[j];
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                if (s[i * lanes + j] > max) {
                    max = s[i * lanes + j];
                }
            }
            float sum = 0f;
            for (int i = 0; i < n; i++) {
                float e = (float) Math.exp(s[i * lanes + j] - max);
                s[i * lanes + j] = e;
                sum += e;
            }
            float inv = 1f / sum;
            for (int i = 0; i < n; i++) {
                s[i * lanes + j] = s[i * lanes + j] * inv;
            }
            if (VECTOR) {
                BlockAttentionVector.weightedSum(s, j, lanes, n, values, headDim, out, outAt[j]);
            } else {
                weightedSum(s, j, lanes, n, values, headDim, out, outAt[j], 0);
            }
        }
    }

    /** out[d] = 0 + w_0 v_0[d] + w_1 v_1[d] + ... in row order, for d from {@code fromDim}; w_i = s[i*lanes + j]. */
    static void weightedSum(float[] s, int j, int lanes, int n, float[] values, int headDim, float[] out, int outOff,
                            int fromDim) {
        for (int d = fromDim; d < headDim; d++) {
            out[outOff + d] = 0f;
        }
        for (int i = 0; i < n; i++) {
            float w = s[i * lanes + j];
            int vo = i * headDim;
            for (int d = fromDim; d < headDim; d++) {
                out[outOff + d] += w * values[vo + d];
            }
        }
    }
}
