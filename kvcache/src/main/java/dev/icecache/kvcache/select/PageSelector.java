package dev.icecache.kvcache.select;

import dev.icecache.kvcache.RangeRunner;
import java.util.function.IntFunction;

/**
 * A page-selection policy and the index it keeps, one per sequence (style.md rule 3): it is told
 * which tokens left the recent window, says which page each token now lives in (a move log),
 * and for a query writes the ids of the pages to attend into a caller's {@code int[]}. It never
 * reads or writes page storage; {@code PagedKvCache} applies its move log to the store.
 *
 * <p>Streams are addressed as (layer, kvHead). Page ids of a stream are {@code >= 0}. Tokens are
 * positions. Implementations allocate nothing per {@link #select} call after warm-up.
 */
public interface PageSelector {

    /**
     * Indexes {@code n} tokens that left the window: key rows {@code keys[keyOff + i*headDim ..]},
     * positions {@code tokens[tokOff + i]}, strictly increasing and after every token indexed.
     * Every assignment this makes (new tokens, and tokens moved by splits) is appended to the
     * stream's move log.
     */
    void add(int layer, int kvHead, float[] keys, int keyOff, int[] tokens, int tokOff, int n);

    /**
     * True when {@link #add} calls for different KV heads may run at once on different threads
     * (each touches only its own stream's index and move log); false (the default) when they share
     * state.
     */
    default boolean addsInParallel() {
        return false;
    }

    /** Moves logged for the stream since the last drain. */
    int pendingMoves(int layer, int kvHead);

    /**
     * Drains the stream's move log in the order made: token {@code token[i]} moved from
     * ({@code fromPage[i]}, {@code fromSlot[i]}) to ({@code toPage[i]}, {@code toSlot[i]});
     * {@code fromPage = NO_PAGE} for a new token. Each array needs {@link #pendingMoves} entries.
     */
    void drainMoves(int layer, int kvHead, int[] token, int[] fromPage, int[] fromSlot, int[] toPage, int[] toSlot);

    /** Page ids of the stream are 0..pageIdLimit-1 (some may be dead, size 0). */
    int pageIdLimit(int layer, int kvHead);

    /** Valid rows of a page (0 for an unknown or dead id). */
    int pageSize(int layer, int kvHead, int page);

    /** Tokens of a page by row ({@code out[row] = token}); returns the page size. */
    int pageTokens(int layer, int kvHead, int page, int[] out);

    /**
     * Chooses up to {@code maxPages} distinct pages for the query heads that share one KV head.
     *
     * @param position the query's position (IceCache(r) reuses a selection made at the same position)
     * @param q post-RoPE queries of the group: {@code queryHeads} rows of headDim floats from {@code qOff}
     * @param out receives the page ids, best first (or ascending for positional baselines)
     * @return the number of ids written
     */
    int select(int layer, int kvHead, int position, float[] q, int qOff, int queryHeads, int maxPages, int[] out);

    /**
     * Optionally does the costly part of the {@link #select} calls about to follow for every KV head
     * of {@code layer} at once, spread over {@code workers}: {@code select(layer, h, position, q,
     * qOff + h*queryHeads*headDim, queryHeads, maxPages, out)} for each head h whose stream has more
     * than {@code maxPages} page ids. Each head's work runs whole on one thread and touches only that
     * head's index, so every selection (and its bits) is that of the serial call; a select that does
     * not match a prepared call does its own work. Nothing may change the index in between.
     * The default does nothing.
     */
    default void prepare(int layer, int position, float[] q, int qOff, int queryHeads, int maxPages,
                         RangeRunner workers) {
    }

    /** Exact query-key (or query-digest) dot products computed so far, over all streams. */
    long exactDots();

    /**
     * True when the index restores from its own snapshot cells; false when it is rebuilt by
     * replaying the stored pages' keys through {@link #add} (positional baselines).
     */
    boolean restoresFromCells();

    /** Drains the ids of index cells changed since the last drain; returns their number. */
    int drainDirtyCells(int layer, int kvHead, int[] out);

    /** Cells changed since the last drain. */
    int dirtyCellCount(int layer, int kvHead);

    /** Compact versioned bytes of one cell. */
    byte[] cellBytes(int layer, int kvHead, int cell);

    /** Rebuilds a stream's index from its cells ({@code null} for an absent id). */
    void restore(int layer, int kvHead, IntFunction<byte[]> cells);

    /** Heap bytes of the index this selector keeps (0 where it keeps none worth counting). */
    default long retainedBytes() {
        return 0;
    }
}
