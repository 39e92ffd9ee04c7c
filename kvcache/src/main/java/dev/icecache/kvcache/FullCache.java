package dev.icecache.kvcache;

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
    private RowScratch[] parts = {new RowScratch()}; // [part] scratch of one thread of a RangeRunner
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
     * Each query of the block over the rows up to its position; the (KV head, query position)
     * pairs are spread over {@code workers}, each pair computed whole by one thread (same bits for
     * any parallelism).
     */
    @Override
    public void attendBlock(int layer, int position, int n, float[] q, int qOff, float[] out, int outOff,
                            RangeRunner workers) {
        Checks.checkIndex(layer, shape.nLayers());
        int last = position + n - 1;
        if (n < 1 || position < 0 || last >= lengths[layer]) {
            throw new IllegalStateException(n == 1
                    ? String.format("attend before append: layer=%d position=%d appended=%d", layer, position,
                            lengths[layer])
                    : String.format("attend block before append: layer=%d positions=%d..%d appended=%d", layer,
                            position, last, lengths[layer]));
        }
        Checks.checkRange(qOff, (long) n * shape.qDim(), q.length);
        Checks.checkRange(outOff, (long) n * shape.qDim(), out.length);
        int threads = workers.parallelism();
        if (parts.length < threads) {
            parts = java.util.Arrays.copyOf(parts, threads);
        }
        for (int i = 0; i < threads; i++) {
            if (parts[i] == null) {
                parts[i] = new RowScratch();
            }
            parts[i].ensure(last + 1, shape.groupSize());
        }
        BlockTask t = blockTask;
        t.layer = layer;
        t.position = position;
        t.n = n;
        t.q = q;
        t.qOff = qOff;
        t.out = out;
        t.outOff = outOff;
        try {
            workers.runRange(shape.nKvHeads() * n, t);
        } finally {
            t.q = null;
            t.out = null;
        }
    }

    /** Query position {@code position} of KV head {@code kvh}'s group over rows 0..position. */
    private void attendOne(int layer, int kvh, int position, float[] q, int qOff, float[] out, int outOff,
                           RowScratch rs) {
        int n = position + 1;
        int hd = shape.headDim();
        float[] kh = keys[layer][kvh];
        float[] vh = values[layer][kvh];
        if (rs.layer != layer || rs.kvHead != kvh || rs.keys != kh) {
            rs.layer = layer;
            rs.kvHead = kvh;
            rs.keys = kh;
            rs.filled = 0;
        }
        for (int i = rs.filled; i < n; i++) {
            rs.kRows[i] = kh;
            rs.vRows[i] = vh;
            rs.rowOff[i] = i * hd;
        }
        rs.filled = Math.max(rs.filled, n);
        int group = shape.groupSize();
        int at = kvh * group * hd;
        HeadAttention.attendGroup(q, qOff + at, group, rs.kRows, rs.rowOff, rs.vRows, rs.rowOff, n, hd, rs.att, out,
                outOff + at);
    }

    /** The block's (KV head, query) pairs: index u = kvHead * n + t. Fields are set before each run. */
    private final class BlockTask implements RangeRunner.RangeTask {
        int layer;
        int position;
        int n;
        float[] q;
        int qOff;
        float[] out;
        int outOff;

        @Override
        public void run(int from, int to, int part) {
            RowScratch rs = parts[part];
            int qDim = shape.qDim();
            for (int u = from; u < to; u++) {
                int h = u / n;
                int t = u % n;
                attendOne(layer, h, position + t, q, qOff + t * qDim, out, outOff + t * qDim, rs);
            }
        }
    }

    /**
     * One thread's row references and softmax weights, grown with the sequence. The references
     * stay valid for one (layer, KV head, key array) and are refilled when that changes.
     */
    private static final class RowScratch {
        float[] att = new float[0];
        float[][] kRows = new float[0][];
        float[][] vRows = new float[0][];
        int[] rowOff = new int[0];
        int layer = -1;
        int kvHead = -1;
        float[] keys;
        int filled;

        void ensure(int n, int group) {
            if (rowOff.length < n) {
                int cap = Math.max(n, 2 * rowOff.length);
                att = new float[cap * group];
                kRows = new float[cap][];
                vRows = new float[cap][];
                rowOff = new int[cap];
                filled = 0;
                keys = null;
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
