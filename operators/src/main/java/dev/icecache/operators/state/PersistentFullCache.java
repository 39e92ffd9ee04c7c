package dev.icecache.operators.state;

import java.util.Arrays;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.HeadAttention;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PageStore;

/**
 * The full cache (every position, exact attention) kept as positional pages that persist in a
 * {@link PageStore}: the job's "full" policy, and the reference the IceCache policy is compared
 * with inside Flink. Attention uses {@link HeadAttention} over rows in position order, so its
 * output is bit for bit that of {@link dev.icecache.kvcache.FullCache}.
 *
 * <pre>
 *   page p of (layer, kvHead) = positions [p*rows, (p+1)*rows), block layout of PageLayout
 *   blocks[layer][kvHead] = [page][2][rowsPerPage][headDim]        (heap, the host tier)
 *   store                 = the same pages, written by writeBack()  (slow tier, e.g. RocksDB)
 * </pre>
 *
 * A cache built over a store that already holds pages (after a restore) reads them back on
 * construction, so the engine continues at {@link #length()} without recomputing anything.
 */
public final class PersistentFullCache implements KvCache {

    private final CacheShape shape;
    private final PageLayout layout;
    private final PageStore store;
    private final float[][][] blocks;  // [layer][kvHead][page * floatsPerPage ...]
    private final int[] lengths;       // [layer] positions appended
    private final int[] firstDirtyPage; // [layer] first page not yet written back
    // scratch for one attend call
    private float[] att = new float[0];
    private float[][] kRows = new float[0][];
    private int[] kOff = new int[0];
    private int[] vOff = new int[0];

    /**
     * @param shape the model's cache shape
     * @param store the slow tier; its layout must have {@code headDim == shape.headDim()}
     * @param length positions already written back to {@code store} (0 for a new document)
     */
    public PersistentFullCache(CacheShape shape, PageStore store, int length) {
        this.shape = shape;
        this.layout = store.layout();
        this.store = store;
        Checks.checkArgument(layout.headDim() == shape.headDim(),
                "store headDim=%d differs from the model's headDim=%d", layout.headDim(), shape.headDim());
        Checks.checkArgument(length >= 0 && length <= shape.maxTokens(),
                "restored length=%d outside [0, maxTokens=%d]", length, shape.maxTokens());
        blocks = new float[shape.nLayers()][shape.nKvHeads()][];
        lengths = new int[shape.nLayers()];
        firstDirtyPage = new int[shape.nLayers()];
        int pages = pagesFor(length);
        for (int l = 0; l < shape.nLayers(); l++) {
            for (int h = 0; h < shape.nKvHeads(); h++) {
                blocks[l][h] = new float[layout.floatsFor(Math.max(pages, 4))];
                readBack(l, h, pages, length);
            }
            lengths[l] = length;
            firstDirtyPage[l] = length / layout.rowsPerPage();
        }
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
        int page = position / layout.rowsPerPage();
        int row = position % layout.rowsPerPage();
        int hd = shape.headDim();
        for (int h = 0; h < shape.nKvHeads(); h++) {
            float[] b = ensurePages(layer, h, page + 1);
            int base = layout.blockOffset(page);
            System.arraycopy(k, kOff + h * hd, b, base + layout.keyOffset(row), hd);
            System.arraycopy(v, vOff + h * hd, b, base + layout.valueOffset(row), hd);
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
            int base = layout.blockOffset(i / layout.rowsPerPage());
            kOff[i] = base + layout.keyOffset(i % layout.rowsPerPage());
            vOff[i] = base + layout.valueOffset(i % layout.rowsPerPage());
        }
        for (int h = 0; h < shape.nHeads(); h++) {
            float[] b = blocks[layer][h / shape.groupSize()];
            Arrays.fill(kRows, 0, n, b);
            HeadAttention.attend(q, qOff + h * hd, kRows, kOff, kRows, vOff, n, hd, att, out, outOff + h * hd);
        }
    }

    /** Heap bytes of the pages held (array capacities). */
    public long retainedBytes() {
        long bytes = 4L * att.length;
        for (float[][] layer : blocks) {
            for (float[] b : layer) {
                bytes += 4L * b.length;
            }
        }
        return bytes;
    }

    /**
     * Writes every page changed since the last call (the filling page included) to the store.
     *
     * @return pages written
     */
    public int writeBack() {
        int written = 0;
        for (int l = 0; l < shape.nLayers(); l++) {
            int len = lengths[l];
            int endPage = pagesFor(len);
            for (int p = firstDirtyPage[l]; p < endPage; p++) {
                int valid = Math.min(layout.rowsPerPage(), len - p * layout.rowsPerPage());
                for (int h = 0; h < shape.nKvHeads(); h++) {
                    store.write(l, h, p, blocks[l][h], layout.blockOffset(p), valid);
                    written++;
                }
            }
            firstDirtyPage[l] = len / layout.rowsPerPage();
        }
        return written;
    }

    private void readBack(int layer, int kvHead, int pages, int length) {
        for (int p = 0; p < pages; p++) {
            int want = Math.min(layout.rowsPerPage(), length - p * layout.rowsPerPage());
            int got = store.read(layer, kvHead, p, blocks[layer][kvHead], layout.blockOffset(p));
            if (got != want) {
                throw new IllegalStateException("restoring KV page layer=" + layer + " kvHead=" + kvHead + " page=" + p
                        + ": store has validRows=" + got + " but length=" + length + " needs " + want
                        + "; the document's state is inconsistent");
            }
        }
    }

    private float[] ensurePages(int layer, int kvHead, int pages) {
        float[] b = blocks[layer][kvHead];
        int need = layout.floatsFor(pages);
        if (b.length < need) {
            b = Arrays.copyOf(b, Math.max(need, (int) Math.min(Integer.MAX_VALUE - 8, 2L * b.length)));
            blocks[layer][kvHead] = b;
        }
        return b;
    }

    private int pagesFor(int positions) {
        return (positions + layout.rowsPerPage() - 1) / layout.rowsPerPage();
    }

    private void ensureScratch(int n) {
        if (att.length < n) {
            int cap = Math.max(n, 2 * att.length);
            att = new float[cap];
            kRows = new float[cap][];
            kOff = new int[cap];
            vOff = new int[cap];
        }
    }
}
