package dev.icecache.kvcache.policy;

import dev.icecache.kvcache.page.PageLayout;
import java.util.Arrays;

/**
 * The tokens that leave the recent window during one commit of a layer, page by page, for every
 * KV head: their K rows and V rows contiguous in position order (the layout {@code DciTree.add}
 * and {@code PageMoves} read) and their positions. Buffers grow by doubling and are reused.
 *
 * <pre>
 *   keys[kvHead]   [row][headDim]   rows 0..size-1, positions tokens[0..size-1] (consecutive)
 *   values[kvHead] [row][headDim]
 * </pre>
 */
final class EvictionBatch {

    private final PageLayout layout;
    private final int kvHeads;
    private float[][] keys;   // [kvHead][row * headDim]
    private float[][] values; // [kvHead][row * headDim]
    private int[] tokens;     // [row]
    private int size;

    EvictionBatch(PageLayout layout, int kvHeads) {
        this.layout = layout;
        this.kvHeads = kvHeads;
        this.keys = new float[kvHeads][0];
        this.values = new float[kvHeads][0];
        this.tokens = new int[0];
    }

    void clear() {
        size = 0;
    }

    int size() {
        return size;
    }

    float[] keys(int kvHead) {
        return keys[kvHead];
    }

    float[] values(int kvHead) {
        return values[kvHead];
    }

    int[] tokens() {
        return tokens;
    }

    /** Drops buffers grown beyond {@code rows} positions (after a prefill chunk); the next batch regrows them. */
    void release(int rows) {
        if (tokens.length > rows) {
            tokens = new int[0];
            for (int h = 0; h < kvHeads; h++) {
                keys[h] = new float[0];
                values[h] = new float[0];
            }
        }
    }

    /** Makes room for one more page whose first position is {@code firstToken}. */
    void beginPage(int firstToken) {
        int rows = layout.rowsPerPage();
        int need = size + rows;
        if (tokens.length < need) {
            int cap = Math.max(need, 2 * tokens.length);
            int floats = Math.multiplyExact(cap, layout.headDim());
            tokens = Arrays.copyOf(tokens, cap);
            for (int h = 0; h < kvHeads; h++) {
                keys[h] = Arrays.copyOf(keys[h], floats);
                values[h] = Arrays.copyOf(values[h], floats);
            }
        }
        for (int r = 0; r < rows; r++) {
            tokens[size + r] = firstToken + r;
        }
    }

    /** Copies one KV head's full page block at {@code data[blockOff]} into the page begun last. */
    void copyHead(int kvHead, float[] data, int blockOff) {
        int floats = layout.rowsPerPage() * layout.headDim();
        int at = size * layout.headDim();
        System.arraycopy(data, blockOff + layout.keyOffset(0), keys[kvHead], at, floats);
        System.arraycopy(data, blockOff + layout.valueOffset(0), values[kvHead], at, floats);
    }

    /** Closes the page begun last. */
    void endPage() {
        size += layout.rowsPerPage();
    }
}
