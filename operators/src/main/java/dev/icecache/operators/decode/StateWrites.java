package dev.icecache.operators.decode;

/**
 * Bytes one document put into keyed state at its element boundaries (pages, index cells and
 * the document value), split into prefill chunks and decode slices, since it was last loaded:
 * what an incremental checkpoint has to ship per element. Logged at the document's end.
 */
final class StateWrites {

    private long cellBytes;
    private long chunkBytes;
    private int chunks;
    private long sliceBytes;
    private int slices;
    private long seen;
    private long wholeChunkBytes;
    private long wholeSliceBytes;
    private long wholeSeen;

    /**
     * Records one element.
     *
     * @param slice whether the element was a decode slice (else a prefill chunk)
     * @param pages the document's cumulative page bytes written so far
     * @param wholePages what {@code pages} would be had every page write stored the whole page
     *                   (no patches), for comparison
     * @param cells the document's cumulative index cell bytes written so far; the element's share of
     *              all three is the rise since the last call
     * @param extra bytes written besides the cumulative totals (the document value)
     * @return the element's bytes
     */
    long record(boolean slice, long pages, long wholePages, long cells, long extra) {
        long bytes = pages + cells - seen + extra;
        long whole = wholePages + cells - wholeSeen + extra;
        seen = pages + cells;
        wholeSeen = wholePages + cells;
        cellBytes = cells;
        if (slice) {
            sliceBytes += bytes;
            wholeSliceBytes += whole;
            slices++;
        } else {
            chunkBytes += bytes;
            wholeChunkBytes += whole;
            chunks++;
        }
        return bytes;
    }

    /** Mean bytes per prefill chunk, 0 when none. */
    long perChunk() {
        return chunks == 0 ? 0 : chunkBytes / chunks;
    }

    /** Mean bytes per decode slice, 0 when none. */
    long perSlice() {
        return slices == 0 ? 0 : sliceBytes / slices;
    }

    @Override
    public String toString() {
        return "state_bytes_whole_pages_per_chunk=" + (chunks == 0 ? 0 : wholeChunkBytes / chunks)
                + " state_bytes_whole_pages_per_slice=" + (slices == 0 ? 0 : wholeSliceBytes / slices)
                + " state_cell_bytes=" + cellBytes + " state_bytes_per_chunk=" + perChunk() + " (" + chunks + " chunks) state_bytes_per_slice=" + perSlice()
                + " (" + slices + " slices)";
    }
}
