package dev.icecache.kvcache.policy;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.attention.SparseAttention;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PageStore;
import java.util.Arrays;

/**
 * The first {@code denseLayers} layers, which keep every position and attend to all of them
 * (icecache.md "Dense layers"). Rows live on the heap, grown by doubling; the store receives
 * them as positional pages (id j = positions 16j ..) on {@link #flush}, so a restored cache
 * reads them back instead of recomputing.
 */
final class DenseLayers {

    private final CacheShape shape;
    private final PageLayout layout;
    private final int layers;
    private final float[][][] keys;   // [layer][kvHead][position * headDim]
    private final float[][][] values; // [layer][kvHead][position * headDim]
    private final int[] flushedPages; // [layer] full pages already in the store
    private final float[] block;      // one page, for store transfers

    DenseLayers(CacheShape shape, PageLayout layout, int layers) {
        this.shape = shape;
        this.layout = layout;
        this.layers = layers;
        int initial = Math.min(shape.maxTokens(), 256) * shape.headDim();
        this.keys = new float[layers][shape.nKvHeads()][initial];
        this.values = new float[layers][shape.nKvHeads()][initial];
        this.flushedPages = new int[layers];
        this.block = new float[layout.floatsPerPage()];
    }

    /** Heap bytes of the rows (array capacities) and the transfer block. */
    long retainedBytes() {
        long bytes = 4L * block.length;
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < shape.nKvHeads(); h++) {
                bytes += 4L * (keys[l][h].length + values[l][h].length);
            }
        }
        return bytes;
    }

    /** Stores one position's (already rounded) rows. */
    void append(int layer, int position, float[] k, int kOff, float[] v, int vOff) {
        int hd = shape.headDim();
        for (int h = 0; h < shape.nKvHeads(); h++) {
            ensure(layer, h, (position + 1) * hd);
            System.arraycopy(k, kOff + h * hd, keys[layer][h], position * hd, hd);
            System.arraycopy(v, vOff + h * hd, values[layer][h], position * hd, hd);
        }
    }

    /** Adds positions 0..upTo of one KV head, in order, to {@code att}. */
    void addRows(SparseAttention att, int layer, int kvHead, int upTo) {
        int hd = shape.headDim();
        float[] k = keys[layer][kvHead];
        float[] v = values[layer][kvHead];
        for (int p = 0; p <= upTo; p++) {
            att.addRow(p, k, p * hd, v, p * hd);
        }
    }

    /** Writes pages not yet stored (and the partial last page) of every dense layer of length {@code length[layer]}. */
    int flush(PageStore store, int[] length) {
        int written = 0;
        int rows = layout.rowsPerPage();
        for (int l = 0; l < layers; l++) {
            int pages = (length[l] + rows - 1) / rows;
            for (int j = flushedPages[l]; j < pages; j++) {
                int valid = Math.min(rows, length[l] - j * rows);
                for (int h = 0; h < shape.nKvHeads(); h++) {
                    toBlock(l, h, j, valid);
                    store.write(l, h, j, block, 0, valid);
                    written++;
                }
            }
            flushedPages[l] = length[l] / rows;
        }
        return written;
    }

    /** Reads {@code length} positions of a dense layer back from the store. */
    void load(PageStore store, int layer, int length) {
        int rows = layout.rowsPerPage();
        int hd = shape.headDim();
        int pages = (length + rows - 1) / rows;
        for (int h = 0; h < shape.nKvHeads(); h++) {
            ensure(layer, h, length * hd);
            for (int j = 0; j < pages; j++) {
                int valid = store.read(layer, h, j, block, 0);
                int expect = Math.min(rows, length - j * rows);
                Checks.checkState(valid == expect, "dense page layer=%d kvHead=%d id=%d has %d rows in the store, "
                        + "expected %d; the store does not match this snapshot", layer, h, j, valid, expect);
                for (int r = 0; r < valid; r++) {
                    int p = j * rows + r;
                    System.arraycopy(block, layout.keyOffset(r), keys[layer][h], p * hd, hd);
                    System.arraycopy(block, layout.valueOffset(r), values[layer][h], p * hd, hd);
                }
            }
        }
        flushedPages[layer] = length / rows;
    }

    private void toBlock(int layer, int kvHead, int page, int valid) {
        int hd = shape.headDim();
        Arrays.fill(block, 0f);
        for (int r = 0; r < valid; r++) {
            int p = page * layout.rowsPerPage() + r;
            System.arraycopy(keys[layer][kvHead], p * hd, block, layout.keyOffset(r), hd);
            System.arraycopy(values[layer][kvHead], p * hd, block, layout.valueOffset(r), hd);
        }
    }

    private void ensure(int layer, int kvHead, int floats) {
        if (keys[layer][kvHead].length < floats) {
            int cap = (int) Math.min((long) shape.maxTokens() * shape.headDim(),
                    Math.max(floats, 2L * keys[layer][kvHead].length));
            keys[layer][kvHead] = Arrays.copyOf(keys[layer][kvHead], cap);
            values[layer][kvHead] = Arrays.copyOf(values[layer][kvHead], cap);
        }
    }
}
