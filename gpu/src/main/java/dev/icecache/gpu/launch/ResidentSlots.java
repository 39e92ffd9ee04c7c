package dev.icecache.gpu.launch;

import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;

/**
 * The device page region of one document (issue 14): every page a decode step attends lives in
 * one array of page blocks in the pool's {@link PageLayout} and format, so that one page table
 * and one kernel address them all by slot.
 *
 * <pre>
 *   slot:  [ pool slots (the host PagePool's, same numbers) | chunk pages          | dense pages                 ]
 *          0                                     poolSlots    [sparse layer][kvHead][chunkPages]  [dense layer][kvHead][densePages]
 *   chunk row c of (layer, kvHead):  page c / rowsPerPage, row c % rowsPerPage   (c = position - first chunk position)
 *   dense row p of (layer, kvHead):  page p / rowsPerPage, row p % rowsPerPage
 * </pre>
 *
 * @param layout page geometry
 * @param poolSlots slots of the host pool (sink + window + retrieved of every sparse stream)
 * @param nLayers layers of the model
 * @param firstSparse dense layers (0 .. firstSparse-1)
 * @param nKvHeads KV heads
 * @param chunkPages pages of one (sparse layer, KV head)'s current chunk: ceil(largest batch / rowsPerPage)
 * @param densePages pages of one (dense layer, KV head): ceil(maxTokens / rowsPerPage)
 */
public record ResidentSlots(PageLayout layout, int poolSlots, int nLayers, int firstSparse, int nKvHeads,
                            int chunkPages, int densePages) {

    public ResidentSlots {
        if (layout == null || poolSlots < 1 || nLayers < 1 || firstSparse < 0 || firstSparse > nLayers
                || nKvHeads < 1 || chunkPages < 1 || densePages < 1) {
            throw new IllegalArgumentException("resident slots poolSlots=" + poolSlots + " nLayers=" + nLayers
                    + " firstSparse=" + firstSparse + " nKvHeads=" + nKvHeads + " chunkPages=" + chunkPages
                    + " densePages=" + densePages + " out of range");
        }
        if (totalSlots(poolSlots, nLayers, firstSparse, nKvHeads, chunkPages, densePages) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("resident slots exceed 2^31 pages; lower the context length");
        }
    }

    private static long totalSlots(int pool, int layers, int firstSparse, int kv, int chunk, int dense) {
        return pool + (long) (layers - firstSparse) * kv * chunk + (long) firstSparse * kv * dense;
    }

    /** The regions for a cache of {@code maxTokens} positions fed in batches of up to {@code maxBatch}. */
    public static ResidentSlots of(PageLayout layout, int poolSlots, int nLayers, int firstSparse, int nKvHeads,
                                   int maxBatch, int maxTokens) {
        int rows = layout.rowsPerPage();
        return new ResidentSlots(layout, poolSlots, nLayers, firstSparse, nKvHeads, (maxBatch + rows - 1) / rows,
                (maxTokens + rows - 1) / rows);
    }

    /** Slots in all: the size of the device region in pages. */
    public int totalSlots() {
        return (int) totalSlots(poolSlots, nLayers, firstSparse, nKvHeads, chunkPages, densePages);
    }

    /** Slot of chunk page {@code page} of (sparse layer, KV head). */
    public int chunkSlot(int layer, int kvHead, int page) {
        if (layer < firstSparse || layer >= nLayers || kvHead < 0 || kvHead >= nKvHeads || page < 0
                || page >= chunkPages) {
            throw new IndexOutOfBoundsException("chunk page layer=" + layer + " kvHead=" + kvHead + " page=" + page
                    + " outside sparse layers " + firstSparse + ".." + (nLayers - 1) + " x " + chunkPages + " pages");
        }
        return poolSlots + ((layer - firstSparse) * nKvHeads + kvHead) * chunkPages + page;
    }

    /** Slot of dense page {@code page} of (dense layer, KV head). */
    public int denseSlot(int layer, int kvHead, int page) {
        if (layer < 0 || layer >= firstSparse || kvHead < 0 || kvHead >= nKvHeads || page < 0 || page >= densePages) {
            throw new IndexOutOfBoundsException("dense page layer=" + layer + " kvHead=" + kvHead + " page=" + page
                    + " outside dense layers 0.." + (firstSparse - 1) + " x " + densePages + " pages");
        }
        return poolSlots + (nLayers - firstSparse) * nKvHeads * chunkPages + (layer * nKvHeads + kvHead) * densePages
                + page;
    }

    /** Bytes of the region with pages in {@code format}. */
    public long bytes(PageFormat format) {
        return (long) totalSlots() * layout.floatsPerPage() * format.bytesPerFloat();
    }

    /** Rows of one page (the layout's). */
    public int rowsPerPage() {
        return layout.rowsPerPage();
    }
}
