package dev.icecache.bench.fidelity;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.KvCache;
import java.util.Arrays;

/**
 * A {@link KvCache} decorator that forwards every call to a policy cache and keeps a shadow copy
 * of every post-RoPE key row appended, plus the query of the attend in progress: the material
 * the fidelity benchmark needs to compute the full softmax a sparse policy approximates.
 *
 * <pre>
 *   keys(layer, kvHead)  = [position][headDim], positions 0 .. appended(layer)-1
 *   query()              = the q row set of the attend call now running (valid during it,
 *                          e.g. inside an AttendedPositions callback), [head][headDim]
 *   attendBlock          forwarded as a block (the policy's prefill path); the block's queries are
 *                        kept, and {@link #focus} points query() at the position a callback is for
 * </pre>
 *
 * Values are not kept: attention recall and top-k recall depend on the scores only.
 */
public final class KeyRecordingCache implements KvCache {

    private final KvCache delegate;
    private final CacheShape shape;
    private final float[][][] keys; // [layer][kvHead][position*headDim]
    private final int[] appended;   // [layer]
    private final float[] query;    // [head*headDim] of the current attend
    private int queryLayer = -1;
    private int queryPosition = -1;
    private float[] blockQueries = new float[0]; // [t][qDim] of the attendBlock in progress
    private int blockStart = -1;
    private int blockLength;

    /** Records around {@code delegate}, which stays owned by this decorator ({@link #close} closes it). */
    public KeyRecordingCache(KvCache delegate) {
        if (delegate == null) {
            throw new IllegalArgumentException("delegate cache must not be null");
        }
        this.delegate = delegate;
        this.shape = delegate.shape();
        int initial = Math.min(shape.maxTokens(), 256) * shape.headDim();
        this.keys = new float[shape.nLayers()][shape.nKvHeads()][initial];
        this.appended = new int[shape.nLayers()];
        this.query = new float[shape.qDim()];
    }

    /** The cache every call is forwarded to. */
    public KvCache delegate() {
        return delegate;
    }

    @Override
    public CacheShape shape() {
        return shape;
    }

    @Override
    public int length() {
        return delegate.length();
    }

    @Override
    public void append(int layer, int position, float[] k, int kOff, float[] v, int vOff) {
        delegate.append(layer, position, k, kOff, v, vOff);
        // the delegate validated layer, order and offsets
        int hd = shape.headDim();
        for (int h = 0; h < shape.nKvHeads(); h++) {
            if (keys[layer][h].length < (position + 1) * hd) {
                keys[layer][h] = Arrays.copyOf(keys[layer][h], Math.max((position + 1) * hd, 2 * keys[layer][h].length));
            }
            System.arraycopy(k, kOff + h * hd, keys[layer][h], position * hd, hd);
        }
        appended[layer] = position + 1;
    }

    @Override
    public void attend(int layer, int position, float[] q, int qOff, float[] out, int outOff) {
        System.arraycopy(q, qOff, query, 0, shape.qDim());
        queryLayer = layer;
        queryPosition = position;
        blockLength = 0;
        delegate.attend(layer, position, q, qOff, out, outOff);
    }

    @Override
    public void attendBlock(int layer, int position, int n, float[] q, int qOff, float[] out, int outOff) {
        int qDim = shape.qDim();
        if (blockQueries.length < n * qDim) {
            blockQueries = new float[n * qDim];
        }
        System.arraycopy(q, qOff, blockQueries, 0, n * qDim);
        queryLayer = layer;
        blockStart = position;
        blockLength = n;
        focus(layer, position + n - 1);
        delegate.attendBlock(layer, position, n, q, qOff, out, outOff);
    }

    /**
     * Inside an attendBlock: makes {@link #query()} and {@link #queryPosition()} those of
     * {@code position} when it belongs to the block (a callback reports positions of the block one
     * by one); otherwise changes nothing.
     */
    public void focus(int layer, int position) {
        if (blockLength > 0 && layer == queryLayer && position >= blockStart && position < blockStart + blockLength) {
            System.arraycopy(blockQueries, (position - blockStart) * shape.qDim(), query, 0, shape.qDim());
            queryPosition = position;
        }
    }

    /** Key rows of one (layer, KV head): row p at {@code [p * headDim]}; live array, read only. */
    public float[] keys(int layer, int kvHead) {
        return keys[layer][kvHead];
    }

    /**
     * The attention logits of query head {@code head} of the current query over positions 0..n-1 of
     * {@code layer}: {@code out[i] = (q_head . k_i) / sqrt(headDim)}, in double; returns their max.
     */
    public double scaledScores(int layer, int head, int n, double[] out) {
        int hd = shape.headDim();
        float[] k = keys[layer][head / shape.groupSize()];
        int qOff = head * hd;
        double scale = 1.0 / Math.sqrt(hd);
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            double s = 0;
            int kOff = i * hd;
            for (int d = 0; d < hd; d++) {
                s += (double) query[qOff + d] * k[kOff + d];
            }
            s *= scale;
            out[i] = s;
            max = Math.max(max, s);
        }
        return max;
    }

    /** Positions appended to {@code layer}. */
    public int appended(int layer) {
        return appended[layer];
    }

    /** The query rows of the attend in progress (or the last one), {@code [head][headDim]}; live array, read only. */
    public float[] query() {
        return query;
    }

    /** Layer of the attend in progress (or the last one), -1 before any. */
    public int queryLayer() {
        return queryLayer;
    }

    /** Position of the attend in progress (or the last one), -1 before any. */
    public int queryPosition() {
        return queryPosition;
    }

    @Override
    public void close() {
        delegate.close();
    }
}
