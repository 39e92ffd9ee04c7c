package dev.icecache.kvcache.attention;

import dev.icecache.kvcache.HeadAttention;

/**
 * {@link HeadAttention}'s numerics for a tile of queries over rows stored contiguously
 * ({@code keys[i*headDim ..]}, {@code values[i*headDim ..]}, i = 0, 1, ...): the prefill path of
 * a cache that keeps every position of a KV head in one array. Query j of the tile reads its row
 * at {@code q[qAt[j]]}, attends to rows {@code 0 .. limit[j]-1} and writes {@code out[outAt[j]]}.
 *
 * <p>Each query's result has the bits of {@link HeadAttention#attend} over the same rows (tested):
 * the Vector API kernel puts one query in each vector lane, so every lane runs the scalar code's
 * own sequence of float multiplies and adds (the 8-lane dot order, scale, softmax in row order,
 * values accumulated in row order per dimension), whatever the vector width. The keys are read
 * once per tile rather than once per query, and the exponentials stay {@link Math#exp} (scalar),
 * as in every other kernel.
 *
 * <pre>
 *   scores[i*lanes + j] = dot(q_j, k_i) * scale          (vector over the tile's queries)
 *   per query j:  softmax over i &lt; limit[j]; out_j = sum_i w_ij * v_i   (vector over dimensions)
 * </pre>
 *
 * {@code -Dicecache.vectorBitSize=0} (as for the model's kernels) or a JVM without the
 * {@code jdk.incubator.vector} module runs the scalar code, with the same bits.
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
            return BlockAttentionVector.lanes() >= 4;
        } catch (LinkageError missingModule) {
            return false; // started without --add-modules jdk.incubator.vector: the scalar code gives the same bits
        }
    }

    /** Queries per tile: the lanes of one float vector (8 for the scalar code). */
    public static int lanes() {
        return VECTOR ? BlockAttentionVector.lanes() : SCALAR_LANES;
    }

    /** One thread's scratch, grown to the longest rows and widest head seen. */
    public static final class Scratch {
        float[] queries = new float[0]; // [d][lane] the tile's queries, transposed
        float[] scores = new float[0];  // [row][lane] scores, then softmax weights

        void ensure(int rows, int headDim, int lanes) {
            if (queries.length < headDim * lanes) {
                queries = new float[headDim * lanes];
            }
            if (scores.length < rows * lanes) {
                scores = new float[Math.max(rows * lanes, 2 * scores.length)];
            }
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
        if (VECTOR) {
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
