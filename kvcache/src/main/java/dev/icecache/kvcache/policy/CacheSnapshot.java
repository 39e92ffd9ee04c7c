package dev.icecache.kvcache.policy;

import dev.icecache.kvcache.Checks;

/**
 * What {@link PagedKvCache#snapshot()} hands to durable state, besides the pages already in the
 * store: a small versioned header (lengths, window positions, counters) and the index cells
 * changed since the previous snapshot, one entry per (layer, KV head, cell), so state backends
 * can keep them as separate fine-grained entries.
 *
 * @param header compact versioned metadata bytes
 * @param cellLayer layer of changed cell i
 * @param cellHead KV head of changed cell i
 * @param cellId id of changed cell i within its tree
 * @param cellBytes bytes of changed cell i
 */
public record CacheSnapshot(byte[] header, int[] cellLayer, int[] cellHead, int[] cellId, byte[][] cellBytes) {

    public CacheSnapshot {
        Checks.checkArgument(header != null, "header must not be null");
        Checks.checkArgument(cellLayer.length == cellHead.length && cellHead.length == cellId.length
                && cellId.length == cellBytes.length, "cell arrays differ in length");
    }

    /** Changed cells in this snapshot. */
    public int cellCount() {
        return cellId.length;
    }

    /** The latest bytes of a stream's cell, as the state backend keeps them for restore. */
    @FunctionalInterface
    public interface CellSource {
        /** Bytes of cell {@code cell} of (layer, kvHead), or null if there is none. */
        byte[] cell(int layer, int kvHead, int cell);
    }
}
