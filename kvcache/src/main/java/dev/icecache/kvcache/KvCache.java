package dev.icecache.kvcache;

/**
 * The KV cache of one sequence, as the forward pass uses it: the seam between the engine
 * ({@code model}) and the cache policies of this library (Full, StreamingLLM, Quest, oracle,
 * IceCache). The engine never sees pages, trees or tiers.
 *
 * <p>Call order per layer: {@link #append} the post-RoPE K and V rows of new positions (in
 * increasing position order, no gaps), then {@link #attend} for each query position among
 * them. A batched prefill appends a whole chunk of positions to a layer and then attends for
 * each of them; the query at position p sees only positions &lt;= p (causal).
 *
 * <p>Numerics contract: the attended rows are always reduced in increasing position order with
 * the kernel of {@link HeadAttention}, so a policy that attends to every position gives bit for
 * bit the same output as {@link FullCache}.
 */
public interface KvCache extends AutoCloseable {

    /** The shape this cache was built for. */
    CacheShape shape();

    /** Positions appended to the last layer so far, i.e. the next position to append there. */
    int length();

    /**
     * Stores one position's K and V rows of one layer.
     *
     * @param layer layer index
     * @param position the position, equal to the number of positions already appended to this layer
     * @param k post-RoPE keys, {@code shape().kvDim()} floats from {@code kOff} ([kvHead][headDim])
     * @param v values, {@code shape().kvDim()} floats from {@code vOff} ([kvHead][headDim])
     */
    void append(int layer, int position, float[] k, int kOff, float[] v, int vOff);

    /**
     * Attention of one query position over the cached positions &lt;= {@code position} that this
     * cache's policy attends to.
     *
     * @param layer layer index
     * @param position the query's position (already appended to this layer)
     * @param q post-RoPE query, {@code shape().qDim()} floats from {@code qOff} ([head][headDim])
     * @param out receives {@code shape().qDim()} floats from {@code outOff}: per head, the
     *            softmax-weighted sum of value rows
     */
    void attend(int layer, int position, float[] q, int qOff, float[] out, int outOff);

    /**
     * Attention of the {@code n} consecutive query positions {@code position .. position+n-1} of a
     * prefill block (all appended to this layer): query t at {@code q[qOff + t*qDim]}, its output
     * at {@code out[outOff + t*qDim]}. Each query sees positions &lt;= its own. The default attends
     * them one by one; a policy may share work across the block (one page selection per KV head
     * for the block, rows gathered once), and says so in its own documentation.
     */
    default void attendBlock(int layer, int position, int n, float[] q, int qOff, float[] out, int outOff) {
        int qDim = shape().qDim();
        for (int t = 0; t < n; t++) {
            attend(layer, position + t, q, qOff + t * qDim, out, outOff + t * qDim);
        }
    }

    /**
     * {@link #attendBlock} with the work of the layer spread over {@code workers}' threads (by KV
     * head, or by KV head and query position): the same bits as the serial call for any
     * parallelism, since each query head's output is computed whole by one thread in the fixed
     * order of {@link HeadAttention}. The default ignores {@code workers}.
     */
    default void attendBlock(int layer, int position, int n, float[] q, int qOff, float[] out, int outOff,
                             RangeRunner workers) {
        attendBlock(layer, position, n, q, qOff, out, outOff);
    }

    /** Releases what the cache holds off-heap or in a store; the default holds nothing. */
    @Override
    default void close() {
    }
}
