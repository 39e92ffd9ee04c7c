package dev.icecache.kvcache.policy;

import dev.icecache.kvcache.page.LongIntMap;
import dev.icecache.kvcache.page.PageKey;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PagePool;
import dev.icecache.kvcache.page.PageStore;
import dev.icecache.kvcache.select.PageSelector;
import dev.icecache.kvcache.tree.DciTree;
import java.util.Arrays;

/**
 * Applies a selector's move log for one (layer, KV head) to the page store
 * (kvcache-contract.md "Who stores K/V rows"): every source row is read before anything is
 * written, so moves inside a batch cannot clobber each other; a token moved twice in one batch
 * is read once, from where it was before the batch.
 *
 * <pre>
 *   pass 1  per move, in order:  token seen first? capture its K,V row  (new token: from the evicted
 *           rows; else: from its source page as stored before the batch); remember its last
 *           (toPage, toSlot); load every touched page's stored block into scratch
 *   pass 2  write each captured row at its final (page, slot) in scratch
 *   pass 3  write back each touched page with the selector's valid-row count (delete when 0),
 *           naming the rows that changed (the slots captured rows landed in, and rows past the
 *           stored count) so a store can keep a patch instead of the whole page; a resident copy
 *           is unassigned in the pool so the next plan fetches it again
 * </pre>
 */
final class PageMoves {

    private final PageLayout layout;
    private final int headDim;
    private int[] token = new int[64];
    private int[] fromPage = new int[64];
    private int[] fromSlot = new int[64];
    private int[] toPage = new int[64];
    private int[] toSlot = new int[64];
    private final LongIntMap captureOf = new LongIntMap(64);  // token -> capture index
    private final LongIntMap scratchOf = new LongIntMap(64);  // page id -> scratch block index
    private float[] captured = new float[0];  // [capture][2][headDim]: K row then V row
    private int[] finalPage = new int[64];     // [capture]
    private int[] finalSlot = new int[64];     // [capture]
    private float[] scratch = new float[0];   // [scratch block][floatsPerPage]
    private int[] scratchPage = new int[16];   // [scratch block] page id
    private int[] storedRows = new int[16];    // [scratch block] valid rows as stored before the batch, -1 absent
    private long[] changedRows = new long[16]; // [scratch block] bit r: row r gets a captured row

    PageMoves(PageLayout layout) {
        this.layout = layout;
        this.headDim = layout.headDim();
    }

    /**
     * Drains and applies the stream's moves.
     *
     * @param newKeys K rows of the tokens just added, token {@code firstNewToken + i} at {@code i * headDim}
     * @param newValues V rows of the same tokens
     * @return pages written or deleted in the store
     */
    int apply(PageSelector selector, int layer, int kvHead, PageStore store, PagePool pool, float[] newKeys,
              float[] newValues, int firstNewToken) {
        int m = selector.pendingMoves(layer, kvHead);
        if (m == 0) {
            return 0;
        }
        ensureMoves(m);
        selector.drainMoves(layer, kvHead, token, fromPage, fromSlot, toPage, toSlot);
        captureOf.clear();
        scratchOf.clear();
        int captures = 0;
        int blocks = 0;
        for (int i = 0; i < m; i++) {
            int c = captureOf.get(token[i]);
            if (c == LongIntMap.MISSING) {
                c = captures++;
                ensureCaptures(captures);
                captureOf.put(token[i], c);
                if (fromPage[i] == DciTree.NO_PAGE) {
                    int row = token[i] - firstNewToken;
                    System.arraycopy(newKeys, row * headDim, captured, 2 * c * headDim, headDim);
                    System.arraycopy(newValues, row * headDim, captured, (2 * c + 1) * headDim, headDim);
                } else {
                    blocks = load(fromPage[i], blocks, layer, kvHead, store);
                    int at = layout.blockOffset(scratchOf.get(fromPage[i]));
                    System.arraycopy(scratch, at + layout.keyOffset(fromSlot[i]), captured, 2 * c * headDim, headDim);
                    System.arraycopy(scratch, at + layout.valueOffset(fromSlot[i]), captured, (2 * c + 1) * headDim,
                            headDim);
                }
            }
            finalPage[c] = toPage[i];
            finalSlot[c] = toSlot[i];
            blocks = load(toPage[i], blocks, layer, kvHead, store);
        }
        for (int c = 0; c < captures; c++) {
            int block = scratchOf.get(finalPage[c]);
            int at = layout.blockOffset(block);
            if (finalSlot[c] < Long.SIZE) {
                changedRows[block] |= 1L << finalSlot[c];
            }
            System.arraycopy(captured, 2 * c * headDim, scratch, at + layout.keyOffset(finalSlot[c]), headDim);
            System.arraycopy(captured, (2 * c + 1) * headDim, scratch, at + layout.valueOffset(finalSlot[c]), headDim);
        }
        for (int b = 0; b < blocks; b++) {
            int page = scratchPage[b];
            int rows = selector.pageSize(layer, kvHead, page);
            if (rows == 0) {
                store.delete(layer, kvHead, page);
            } else if (storedRows[b] == PageStore.ABSENT) {
                store.write(layer, kvHead, page, scratch, layout.blockOffset(b), rows);
            } else {
                store.writeRows(layer, kvHead, page, scratch, layout.blockOffset(b), rows,
                        changedRows[b] | rowsFrom(storedRows[b]));
            }
            int slot = pool.slotOf(PageKey.of(layer, kvHead, page));
            if (slot != PagePool.NOT_RESIDENT) {
                pool.unassign(slot);
            }
        }
        return blocks;
    }

    /**
     * Drops scratch grown beyond {@code rows} rows of captures or of page blocks (after a prefill
     * chunk's batch); the next large batch regrows it.
     */
    void release(int rows) {
        if (captured.length > 2 * rows * headDim) {
            captured = new float[0];
        }
        if (scratch.length > layout.floatsFor(rows)) {
            scratch = new float[0];
        }
    }

    /** Loads a page's stored block into a scratch block once per batch; returns the block count. */
    private int load(int page, int blocks, int layer, int kvHead, PageStore store) {
        if (scratchOf.get(page) != LongIntMap.MISSING) {
            return blocks;
        }
        if (scratchPage.length == blocks) {
            scratchPage = Arrays.copyOf(scratchPage, blocks * 2);
            storedRows = Arrays.copyOf(storedRows, blocks * 2);
            changedRows = Arrays.copyOf(changedRows, blocks * 2);
        }
        int need = layout.floatsFor(blocks + 1);
        if (scratch.length < need) {
            scratch = Arrays.copyOf(scratch, Math.max(need, scratch.length * 2));
        }
        int at = layout.blockOffset(blocks);
        int stored = store.read(layer, kvHead, page, scratch, at);
        if (stored == PageStore.ABSENT) {
            Arrays.fill(scratch, at, at + layout.floatsPerPage(), 0f);
        }
        scratchOf.put(page, blocks);
        scratchPage[blocks] = page;
        storedRows[blocks] = stored;
        changedRows[blocks] = 0;
        return blocks + 1;
    }

    /** The rows from {@code n} on, as a changed-row mask (rows past a stored page's count). */
    private static long rowsFrom(int n) {
        return n >= Long.SIZE ? 0 : -1L << n;
    }

    private void ensureMoves(int m) {
        if (token.length < m) {
            int cap = Math.max(m, token.length * 2);
            token = new int[cap];
            fromPage = new int[cap];
            fromSlot = new int[cap];
            toPage = new int[cap];
            toSlot = new int[cap];
        }
    }

    private void ensureCaptures(int n) {
        if (finalPage.length < n) {
            finalPage = Arrays.copyOf(finalPage, n * 2);
            finalSlot = Arrays.copyOf(finalSlot, n * 2);
        }
        if (captured.length < 2 * n * headDim) {
            captured = Arrays.copyOf(captured, 4 * n * headDim);
        }
    }
}
