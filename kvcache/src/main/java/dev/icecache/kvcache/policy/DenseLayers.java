package dev.icecache.kvcache.policy;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.attention.BlockAttention;
import dev.icecache.kvcache.device.ResidentMirror;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PageStore;
import java.util.Arrays;

/**
 * The first {@code denseLayers} layers, which keep every position and attend to all of them
 * (icecache.md "Dense layers"). Rows live on the heap in the page format, grown by doubling:
 * float32 for F32, BF16 bits (2 bytes a value) for BF16, widened (exactly) as they are attended
 * ({@link BlockAttention#attendBlockBf16}: the bits of the float path over the same rounded rows).
 * BF16 keys are kept by chunks of {@link BlockAttention#keyChunkRows()} rows, transposed, the
 * layout the kernels read, so a chunk widens with contiguous vector loads. The store receives rows
 * as positional pages (id j = positions 16j ..) on {@link #flush}, so a restored cache reads them
 * back instead of recomputing; the layout on the heap never reaches the store.
 *
 * <pre>
 *   F32:  f32Keys[layer][kvHead][position * headDim + e]                        f32Values likewise
 *   BF16: bf16Keys[layer][kvHead][BlockAttention.chunkedKeyIndex(position, e, headDim)]
 *         bf16Values[layer][kvHead][position * headDim + e]
 * </pre>
 */
final class DenseLayers {

    private final CacheShape shape;
    private final PageLayout layout;
    private final int layers;
    private final boolean bf16;
    private final float[][][] f32Keys;    // F32 only
    private final float[][][] f32Values;
    private final short[][][] bf16Keys;   // BF16 only
    private final short[][][] bf16Values;
    private final int[] flushedPages; // [layer] full pages already in the store
    private final float[] block;      // one page, for store transfers

    DenseLayers(CacheShape shape, PageLayout layout, int layers, PageFormat format) {
        this.shape = shape;
        this.layout = layout;
        this.layers = layers;
        this.bf16 = format == PageFormat.BF16;
        int initial = capacity(Math.min(shape.maxTokens(), 256) * shape.headDim());
        this.f32Keys = bf16 ? null : new float[layers][shape.nKvHeads()][initial];
        this.f32Values = bf16 ? null : new float[layers][shape.nKvHeads()][initial];
        this.bf16Keys = bf16 ? new short[layers][shape.nKvHeads()][initial] : null;
        this.bf16Values = bf16 ? new short[layers][shape.nKvHeads()][initial] : null;
        this.flushedPages = new int[layers];
        this.block = new float[layout.floatsPerPage()];
    }

    /** Bytes of the rows held now (capacity of the arrays, not only the used part). */
    long heapBytes() {
        long n = 0;
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < shape.nKvHeads(); h++) {
                n += bf16 ? 2L * (bf16Keys[l][h].length + bf16Values[l][h].length)
                        : 4L * (f32Keys[l][h].length + f32Values[l][h].length);
            }
        }
        return n;
    }

    /** Heap bytes of the rows (array capacities) and the transfer block: what a memory budget counts. */
    long retainedBytes() {
        return heapBytes() + 4L * block.length;
    }

    /** Stores one position's (already rounded) rows. */
    void append(int layer, int position, float[] k, int kOff, float[] v, int vOff) {
        int hd = shape.headDim();
        for (int h = 0; h < shape.nKvHeads(); h++) {
            ensure(layer, h, (position + 1) * hd);
            putRow(layer, h, position, k, kOff + h * hd, v, vOff + h * hd);
        }
    }

    /**
     * Attention of the queries of one KV head's group for block positions {@code position ..
     * position+n-1} (query head g of position t at {@code q[qOff + t*qDim + g*headDim]}, output
     * likewise in {@code out}); position p attends to rows 0..p. F32 rows are attended in place,
     * BF16 rows are widened (exactly) as the kernel reads them in ({@code attendBlockBf16}): the
     * bits of {@code HeadAttention} over the rounded rows either way. Threads attending at once
     * use different scratches.
     */
    void attendBlock(BlockAttention.Scratch scratch, int layer, int kvHead, int position, int n, float[] q, int qOff,
                     int qDim, int group, float[] out, int outOff) {
        int hd = shape.headDim();
        int[] rowLimit = scratch.rowLimits(n);
        for (int t = 0; t < n; t++) {
            rowLimit[t] = position + t + 1;
        }
        if (bf16) {
            BlockAttention.attendBlockBf16(q, qOff, qDim, group, n, rowLimit, bf16Keys[layer][kvHead],
                    bf16Values[layer][kvHead], hd, scratch, out, outOff, qDim);
        } else {
            BlockAttention.attendBlock(q, qOff, qDim, group, n, rowLimit, f32Keys[layer][kvHead],
                    f32Values[layer][kvHead], hd, scratch, out, outOff, qDim);
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

    /** Hands every page of every dense layer ({@code length[layer]} positions) to a newly attached mirror. */
    void replay(int[] length, ResidentMirror m) {
        int rows = layout.rowsPerPage();
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < shape.nKvHeads(); h++) {
                for (int j = 0; j * rows < length[l]; j++) {
                    toBlock(l, h, j, Math.min(rows, length[l] - j * rows));
                    m.densePageLoaded(l, h, j, block, 0);
                }
            }
        }
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
                    putRow(layer, h, j * rows + r, block, layout.keyOffset(r), block, layout.valueOffset(r));
                }
            }
        }
        flushedPages[layer] = length / rows;
    }

    private void putRow(int layer, int kvHead, int position, float[] k, int kOff, float[] v, int vOff) {
        int hd = shape.headDim();
        int at = position * hd;
        if (bf16) {
            short[] kd = bf16Keys[layer][kvHead];
            short[] vd = bf16Values[layer][kvHead];
            int k0 = BlockAttention.chunkedKeyIndex(position, 0, hd); // element i at k0 + i * chunk rows
            int step = BlockAttention.keyChunkRows();
            for (int i = 0; i < hd; i++) {
                kd[k0 + i * step] = PageFormat.narrow(k[kOff + i]);
                vd[at + i] = PageFormat.narrow(v[vOff + i]);
            }
        } else {
            System.arraycopy(k, kOff, f32Keys[layer][kvHead], at, hd);
            System.arraycopy(v, vOff, f32Values[layer][kvHead], at, hd);
        }
    }

    private void toBlock(int layer, int kvHead, int page, int valid) {
        int hd = shape.headDim();
        Arrays.fill(block, 0f);
        for (int r = 0; r < valid; r++) {
            int position = page * layout.rowsPerPage() + r;
            int at = position * hd;
            int ko = layout.keyOffset(r);
            int vo = layout.valueOffset(r);
            if (bf16) {
                short[] kd = bf16Keys[layer][kvHead];
                short[] vd = bf16Values[layer][kvHead];
                int k0 = BlockAttention.chunkedKeyIndex(position, 0, hd);
                int step = BlockAttention.keyChunkRows();
                for (int i = 0; i < hd; i++) {
                    block[ko + i] = PageFormat.widen(kd[k0 + i * step]);
                    block[vo + i] = PageFormat.widen(vd[at + i]);
                }
            } else {
                System.arraycopy(f32Keys[layer][kvHead], at, block, ko, hd);
                System.arraycopy(f32Values[layer][kvHead], at, block, vo, hd);
            }
        }
    }

    /** {@code floats} rounded up to whole key chunks (BF16 keys are stored by chunks; values share the size). */
    private int capacity(int floats) {
        int chunk = BlockAttention.keyChunkRows() * shape.headDim();
        return (int) Math.min(Integer.MAX_VALUE - 8, ((long) floats + chunk - 1) / chunk * chunk);
    }

    private void ensure(int layer, int kvHead, int floats) {
        int have = bf16 ? bf16Keys[layer][kvHead].length : f32Keys[layer][kvHead].length;
        if (have < floats) {
            int cap = capacity((int) Math.min((long) shape.maxTokens() * shape.headDim(), Math.max(floats, 2L * have)));
            if (bf16) {
                bf16Keys[layer][kvHead] = Arrays.copyOf(bf16Keys[layer][kvHead], cap);
                bf16Values[layer][kvHead] = Arrays.copyOf(bf16Values[layer][kvHead], cap);
            } else {
                f32Keys[layer][kvHead] = Arrays.copyOf(f32Keys[layer][kvHead], cap);
                f32Values[layer][kvHead] = Arrays.copyOf(f32Values[layer][kvHead], cap);
            }
        }
    }
}
