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
    // scratch for one attend call, grown with the sequence
    private float[] att = new float[0];
    private float[][] kRows = new float[0][];
    private float[][] vRows = new float[0][];
    private int[] rowOff = new int[0];

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
        Checks.checkIndex(layer, shape.nLayers());
        Checks.checkState(position < lengths[layer],
                "attend before append: layer=%d position=%d appended=%d", layer, position, lengths[layer]);
        int n = position + 1;
        int hd = shape.headDim();
        ensureScratch(n);
        for (int i = 0; i < n; i++) {
            rowOff[i] = i * hd;
        }
        int group = shape.groupSize();
        for (int kvh = 0; kvh < shape.nKvHeads(); kvh++) {
            float[] kh = keys[layer][kvh];
            float[] vh = values[layer][kvh];
            for (int i = 0; i < n; i++) {
                kRows[i] = kh;
                vRows[i] = vh;
            }
            int at = kvh * group * hd;
            HeadAttention.attendGroup(q, qOff + at, group, kRows, rowOff, vRows, rowOff, n, hd, att, out, outOff + at);
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

    private void ensureScratch(int n) {
        if (rowOff.length < n) {
            int cap = Math.max(n, 2 * rowOff.length);
            att = new float[cap * shape.groupSize()];
            kRows = new float[cap][];
            vRows = new float[cap][];
            rowOff = new int[cap];
        }
    }
}
