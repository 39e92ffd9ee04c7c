package dev.icecache.kvcache.select;

import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.tree.DciTree;
import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * The index shared by the positional baselines (Full, StreamingLLM, Quest, oracle): a page is 16
 * consecutive positions that left the window, page j of a stream holding positions
 * {@code firstIndexedToken + 16j ..}. Depending on the policy it also keeps each page's
 * per-channel key minimum and maximum (Quest's digest) or every key (the oracle).
 *
 * <pre>
 *   per stream: pageCount, moves (MoveLog),
 *               keys      [token - firstIndexedToken][headDim]   (keepKeys)
 *               digestMin [page][headDim], digestMax [page][headDim]   (keepDigests)
 * </pre>
 *
 * Its state is fully determined by the keys added, so it restores by replay (no cells).
 */
abstract class PositionalSelector implements PageSelector {

    protected final SelectorSpec spec;
    protected final int headDim;
    protected final int rows;
    private final boolean keepKeys;
    private final boolean keepDigests;
    protected final int[] pageCount;       // [stream]
    private final MoveLog[] moves;         // [stream]
    protected final float[][] keys;        // [stream][token - firstIndexedToken][headDim]
    protected final float[][] digestMin;   // [stream][page][headDim]
    protected final float[][] digestMax;   // [stream][page][headDim]
    protected long exactDots;

    PositionalSelector(SelectorSpec spec, boolean keepKeys, boolean keepDigests) {
        this.spec = spec;
        this.headDim = spec.shape().headDim();
        this.rows = spec.rowsPerPage();
        this.keepKeys = keepKeys;
        this.keepDigests = keepDigests;
        int n = spec.streams();
        this.pageCount = new int[n];
        this.moves = new MoveLog[n];
        this.keys = new float[n][];
        this.digestMin = new float[n][];
        this.digestMax = new float[n][];
        for (int s = 0; s < n; s++) {
            moves[s] = new MoveLog();
            keys[s] = new float[keepKeys ? rows * headDim : 0];
            digestMin[s] = new float[keepDigests ? headDim : 0];
            digestMax[s] = new float[keepDigests ? headDim : 0];
        }
    }

    @Override
    public void add(int layer, int kvHead, float[] k, int keyOff, int[] tokens, int tokOff, int n) {
        int s = spec.stream(layer, kvHead);
        if (n % rows != 0) {
            throw new IllegalArgumentException(String.format(
                    "positional pages take whole pages: n=%d is not a multiple of %d",
                    
                    n, rows));
        }
        Checks.checkRange(keyOff, (long) n * headDim, k.length);
        Checks.checkRange(tokOff, n, tokens.length);
        for (int i = 0; i < n; i++) {
            int expect = spec.firstIndexedToken() + pageCount[s] * rows + i;
            if (tokens[tokOff + i] != expect) {
                throw new IllegalArgumentException(String.format(
                        "token=%d out of order for a positional page: expected %d",
                        
                        tokens[tokOff + i], expect));
            }
        }
        for (int p = 0; p < n / rows; p++) {
            int page = pageCount[s];
            int first = p * rows;
            for (int r = 0; r < rows; r++) {
                moves[s].append(tokens[tokOff + first + r], DciTree.NO_PAGE, 0, page, r);
            }
            if (keepKeys) {
                keys[s] = ensure(keys[s], (page + 1) * rows * headDim);
                System.arraycopy(k, keyOff + first * headDim, keys[s], page * rows * headDim, rows * headDim);
            }
            if (keepDigests) {
                updateDigest(s, page, k, keyOff + first * headDim);
            }
            pageCount[s] = page + 1;
        }
    }

    private void updateDigest(int s, int page, float[] k, int off) {
        digestMin[s] = ensure(digestMin[s], (page + 1) * headDim);
        digestMax[s] = ensure(digestMax[s], (page + 1) * headDim);
        float[] mn = digestMin[s];
        float[] mx = digestMax[s];
        int d0 = page * headDim;
        for (int d = 0; d < headDim; d++) {
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (int r = 0; r < rows; r++) {
                float v = k[off + r * headDim + d];
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            mn[d0 + d] = lo;
            mx[d0 + d] = hi;
        }
    }

    private static float[] ensure(float[] a, int n) {
        return a.length >= n ? a : Arrays.copyOf(a, Math.max(n, a.length * 2));
    }

    @Override
    public int pendingMoves(int layer, int kvHead) {
        return moves[spec.stream(layer, kvHead)].size();
    }

    @Override
    public void drainMoves(int layer, int kvHead, int[] token, int[] fromPage, int[] fromSlot, int[] toPage,
                           int[] toSlot) {
        moves[spec.stream(layer, kvHead)].drain(token, fromPage, fromSlot, toPage, toSlot);
    }

    /** Positional pages indexed in a stream. */
    public int pages(int layer, int kvHead) {
        return pageCount[spec.stream(layer, kvHead)];
    }

    @Override
    public int pageIdLimit(int layer, int kvHead) {
        return pageCount[spec.stream(layer, kvHead)];
    }

    @Override
    public int pageSize(int layer, int kvHead, int page) {
        return page >= 0 && page < pageCount[spec.stream(layer, kvHead)] ? rows : 0;
    }

    @Override
    public int pageTokens(int layer, int kvHead, int page, int[] out) {
        int n = pageSize(layer, kvHead, page);
        int first = spec.firstIndexedToken() + page * rows;
        for (int r = 0; r < n; r++) {
            out[r] = first + r;
        }
        return n;
    }

    @Override
    public long exactDots() {
        return exactDots;
    }

    @Override
    public boolean restoresFromCells() {
        return false;
    }

    @Override
    public int drainDirtyCells(int layer, int kvHead, int[] out) {
        return 0;
    }

    @Override
    public int dirtyCellCount(int layer, int kvHead) {
        return 0;
    }

    @Override
    public byte[] cellBytes(int layer, int kvHead, int cell) {
        throw new IllegalArgumentException("positional index has no cells (cell=" + cell + "); it restores by replay");
    }

    @Override
    public void restore(int layer, int kvHead, IntFunction<byte[]> cells) {
        throw new UnsupportedOperationException("positional index restores by replaying stored keys through add()");
    }
}
