package dev.icecache.kvcache;

import dev.icecache.kvcache.attention.BlockAttention;

/**
 * The plain full cache: every position of every layer, exact attention. The reference for
 * fidelity of every other policy.
 *
 * <pre>
 *   keys[layer][kvHead]   = [position][headDim], grown by doubling up to maxTokens
 *   values[layer][kvHead] = [position][headDim]
 * </pre>
 */
public final class FullCache implements KvCache {

    private final CacheShape shape;
    private final float[][][] keys;   // [layer][kvHead][position*headDim]
    private final float[][][] values; // [layer][kvHead][position*headDim]
    private final int[] lengths;      // [layer] positions appended
    private BlockAttention.Scratch[] parts = {new BlockAttention.Scratch()}; // [part] one thread's scratch
    private final BlockTask blockTask = new BlockTask();

    public FullCache(CacheShape shape) {
        this.shape = shape;
        int initial = Math.min(shape.maxTokens(), 256) * shape.headDim();
        keys = new float[shape.nLayers()][shape.nKvHeads()][initial];
        values = new float[shape.nLayers()][shape.nKvHeads()][initial];
        lengths = new int[shape.nLayers()];
    }

    @Override
    public CacheShape shape() {
        return shape;
    }

    @Override
    public int length() {
        return lengths[shape.nLayers() - 1];
    }

    @Override
    public void append(int layer, int position, float[] k, int kOff, float[] v, int vOff) {
        Checks.checkAppend(shape, layer, position, lengths[layer]);
        int hd = shape.headDim();
        for (int h = 0; h < shape.nKvHeads(); h++) {
            ensureCapacity(layer, h, (position + 1) * hd);
            System.arraycopy(k, kOff + h * hd, keys[layer][h], position * hd, hd);
            System.arraycopy(v, vOff + h * hd, values[layer][h], position * hd, hd);
        }
        lengths[layer] = position + 1;
    }

    @Override
    public void attend(int layer, int position, float[] q, int qOff, float[] out, int outOff) {
        attendBlock(layer, position, 1, q, qOff, out, outOff, RangeRunner.SERIAL);
    }

    @Override
    public void attendBlock(int layer, int position, int n, float[] q, int qOff, float[] out, int outOff) {
        attendBlock(layer, position, n, q, qOff, out, outOff, RangeRunner.SERIAL);
    }

    /**
     * Each query of the block over the rows up to its position; the KV heads are spread over
     * {@code workers}, each computed whole by one thread (same bits for any parallelism).
     */
    @Override
    public void attendBlock(int layer, int position, int n, float[] q, int qOff, float[] out, int outOff,
                            RangeRunner workers) {
        Checks.checkAttendBlock(shape, layer, position, n, lengths[layer], q, qOff, out, outOff);
        parts = BlockAttention.Scratch.forThreads(parts, workers.parallelism());
        blockTask.runOn(workers, shape.nKvHeads(), layer, position, n, q, qOff, out, outOff);
    }

    /**
     * The block's queries of each KV head (index = KV head) through {@link BlockAttention}. Fields
     * are set before each run.
     */
    private final class BlockTask extends BlockAttendTask {

        @Override
        public void run(int from, int to, int part) {
            BlockAttention.Scratch rs = parts[part];
            int hd = shape.headDim();
            int group = shape.groupSize();
            int[] rowLimit = rs.rowLimits(n);
            for (int t = 0; t < n; t++) {
                rowLimit[t] = position + t + 1;
            }
            for (int h = from; h < to; h++) {
                int at = h * group * hd;
                BlockAttention.attendBlock(q, qOff + at, shape.qDim(), group, n, rowLimit, keys[layer][h],
                        values[layer][h], hd, rs, out, outOff + at, shape.qDim());
            }
        }
    }

    private void ensureCapacity(int layer, int kvHead, int floats) {
        if (keys[layer][kvHead].length < floats) {
            int cap = (int) Math.min((long) shape.maxTokens() * shape.headDim(),
                    Math.max(floats, 2L * keys[layer][kvHead].length));
            keys[layer][kvHead] = java.util.Arrays.copyOf(keys[layer][kvHead], cap);
            values[layer][kvHead] = java.util.Arrays.copyOf(values[layer][kvHead], cap);
        }
    }
}
