package dev.icecache.kvcache.device;

import dev.icecache.kvcache.transfer.TransferPlan;

/**
 * A copy of a {@code PagedKvCache}'s resident pool kept elsewhere (a GPU's memory), told of every
 * change to the pool's slots so that it can apply the same change from its own rows: the
 * device-resident decode seam (issue 14). The host pool stays the authority (slots, pins, owners,
 * the store's pages and the index), the mirror holds the same rows in the same slots.
 *
 * <pre>
 *   append after attend (commit):  rowPlaced(layer, kvHead, position, chunkIndex, slot, row) per row and KV head
 *                                  (the row is the chunk's row chunkIndex: the mirror copies its own chunk row)
 *   selection of a step:           pagesFetched(plan) after plan.execute (the plan's staging holds the pages)
 *   close of the cache:            cacheClosed() (the document is unloaded: the mirror frees its pages)
 *   attach to a cache that holds positions (a restored one):
 *                                  poolPageLoaded(slot, ..) for every pool slot, densePageLoaded(..) for every
 *                                  page of a dense layer (rows past the layer's length are zero)
 * </pre>
 *
 * Called on the cache's thread, inside the cache's calls; must not call back into the cache.
 */
public interface ResidentMirror {

    /**
     * Row {@code row} of pool slot {@code slot} now holds the K and V of {@code position} of
     * (layer, kvHead): the chunk row {@code chunkIndex} (position minus the chunk's first position)
     * of the chunk being committed.
     */
    void rowPlaced(int layer, int kvHead, int position, int chunkIndex, int slot, int row);

    /** An executed plan's fetched pages (staged in plan order) now fill their slots on the host. */
    void pagesFetched(TransferPlan plan);

    /** Pool slot {@code slot}'s block ({@code block[off ..]}, PageLayout) as the cache holds it at attach time. */
    void poolPageLoaded(int slot, float[] block, int off);

    /** Page {@code page} (positions from page * rowsPerPage) of a dense layer's KV head at attach time. */
    void densePageLoaded(int layer, int kvHead, int page, float[] block, int off);

    /** The cache was closed: the copy is no longer needed. */
    void cacheClosed();
}
