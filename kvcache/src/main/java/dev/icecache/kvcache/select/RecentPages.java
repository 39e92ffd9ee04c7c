package dev.icecache.kvcache.select;

import dev.icecache.kvcache.tree.DciTree;
import dev.icecache.kvcache.tree.PageScore;
import dev.icecache.kvcache.tree.RankingDot;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * [ours, issue 18] The newest indexed tokens of one (layer, KV head), held as up to
 * {@code capacity} positional pages before they enter the {@link DciTree}: IceCache's hybrid of
 * semantic pages and the positional neighbours the queries of small models attend to most.
 *
 * <pre>
 *   ids 0 .. capacity          ring page ids (capacity + 1: one spare while a batch arrives)
 *   ids capacity+1 + t         tree page t (the selector adds the offset, see IceCacheSelector)
 *   live pages, oldest first   each full (rowsPerPage rows) except the newest; tokens increasing
 *   add(batch)                 the combined sequence (ring tokens, then the batch) is cut into pages
 *                              from the ring's start; all but the last `capacity` pages go to the
 *                              tree in one DciTree.add (bulk build when it is empty); the rest stay
 *   move log                   new tokens that stay: NO_PAGE -&gt; (ring id, slot); tokens that leave:
 *                              the tree's entry with its source rewritten to (ring id, slot)
 * </pre>
 *
 * Snapshot: one cell ({@link #CELL}, a kind the tree's cell ids never use) holding the live pages.
 */
final class RecentPages {

    /** Snapshot cell id of the recent pages: kind 3, which {@link DciTree} never uses. */
    static final int CELL = 3;
    private static final byte VERSION = 1;
    /** Scratch rows kept between batches; a prefill chunk's larger flush buffers are released after use. */
    private static final int SCRATCH_ROWS = 64;

    private final int capacity;
    private final int rowsPerPage;
    private final int headDim;
    private final int[] live;          // ids, oldest first
    private int liveCount;
    private final int[] rows;          // [id]
    private final int[][] tokens;      // [id][slot]
    private final float[][] keys;      // [id][slot * headDim]
    private final boolean[] used;      // [id]
    private final Places moves = new Places();  // new tokens into ring pages, undrained
    private final Places left = new Places();   // tokens that left for the tree, sorted, with where they were
    private boolean dirty = true;
    private float[] flushKeys = new float[0];
    private int[] flushTokens = new int[0];
    private final float[] scores;
    private int lastToken = -1;
    private int[] tk = new int[0]; // scratch for the tree's move log: token, from page/slot, to page/slot
    private int[] fp = new int[0];
    private int[] fs = new int[0];
    private int[] tp = new int[0];
    private int[] ts = new int[0];

    RecentPages(int capacity, int rowsPerPage, int headDim) {
        this.capacity = capacity;
        this.rowsPerPage = rowsPerPage;
        this.headDim = headDim;
        int ids = capacity + 1;
        this.live = new int[ids];
        this.rows = new int[ids];
        this.tokens = new int[ids][rowsPerPage];
        this.keys = new float[ids][rowsPerPage * headDim];
        this.used = new boolean[ids];
        this.scores = new float[rowsPerPage];
    }

    /** Ring page ids are 0..idCount-1; tree page t is selector page idCount + t. */
    int idCount() {
        return capacity + 1;
    }

    /** Live pages now. */
    int liveCount() {
        return liveCount;
    }

    /** The i-th live page id, oldest first. */
    int liveId(int i) {
        return live[i];
    }

    int size(int id) {
        return rows[id];
    }

    int pageTokens(int id, int[] out) {
        int n = rows[id];
        System.arraycopy(tokens[id], 0, out, 0, n);
        return n;
    }

    /** The ring page holding {@code token}, or -1. */
    int pageOf(int token) {
        for (int i = 0; i < liveCount; i++) {
            int id = live[i];
            if (rows[id] > 0 && token >= tokens[id][0] && token <= tokens[id][rows[id] - 1]) {
                for (int s = 0; s < rows[id]; s++) {
                    if (tokens[id][s] == token) {
                        return id;
                    }
                }
            }
        }
        return -1;
    }

    /** Score of ring page {@code id} for the query row at {@code q[qOff]}; adds the dots done to {@code dots[0]}. */
    float score(int id, float[] q, int qOff, PageScore pageScore, long[] dots) {
        int n = rows[id];
        float best = Float.NEGATIVE_INFINITY;
        for (int s = 0; s < n; s++) {
            float v = RankingDot.dot(q, qOff, keys[id], s * headDim, headDim);
            scores[s] = v;
            best = Math.max(best, v);
        }
        dots[0] += n;
        return pageScore.of(scores, n, best, headDim);
    }

    /**
     * Adds a batch (keys {@code k[kOff + i*headDim ..]}, tokens {@code tok[tOff + i]}, increasing and
     * after every token added) and moves the oldest pages beyond the capacity into {@code tree}.
     */
    void add(DciTree tree, float[] k, int kOff, int[] tok, int tOff, int n) {
        if (n == 0) {
            return;
        }
        if (k == null || tok == null || n < 0 || kOff < 0 || tOff < 0 || (long) kOff + (long) n * headDim > k.length
                || (long) tOff + n > tok.length) {
            throw new IllegalArgumentException("batch of n=" + n + " does not fit keys/tokens at offsets " + kOff + "/" + tOff);
        }
        for (int i = 0, last = lastToken; i < n; i++) {
            int t = tok[tOff + i];
            if (t <= last) {
                throw new IllegalArgumentException("token=" + t + " at batch index " + i + " must be greater than the"
                        + " previous token=" + last + "; tokens are positions (>= 0), strictly increasing");
            }
            last = t;
            for (int d = 0; d < headDim; d++) {
                if (!Float.isFinite(k[kOff + i * headDim + d])) {
                    throw new IllegalArgumentException("key of token=" + t + " has a non-finite value at index " + d
                            + "; keys must be finite");
                }
            }
        }
        lastToken = tok[tOff + n - 1];
        dirty = true;
        int held = 0;
        for (int i = 0; i < liveCount; i++) {
            held += rows[live[i]];
        }
        int total = held + n;
        int pages = (total + rowsPerPage - 1) / rowsPerPage;
        int flush = Math.max(0, pages - capacity) * rowsPerPage;
        if (flush > 0) {
            flushOldest(tree, flush, k, kOff, tok, tOff);
        }
        int fromBatch = Math.max(0, flush - held);
        for (int i = fromBatch; i < n; i++) {
            int id = liveCount == 0 || rows[live[liveCount - 1]] == rowsPerPage ? open() : live[liveCount - 1];
            int s = rows[id]++;
            tokens[id][s] = tok[tOff + i];
            System.arraycopy(k, kOff + i * headDim, keys[id], s * headDim, headDim);
            moves.add(tok[tOff + i], id, s);
        }
    }

    private void flushOldest(DciTree tree, int flush, float[] k, int kOff, int[] tok, int tOff) {
        if (flushTokens.length < flush) {
            flushTokens = new int[flush];
            flushKeys = new float[flush * headDim];
        }
        int c = 0;
        while (liveCount > 0 && c < flush) {
            int id = live[0];
            for (int s = 0; s < rows[id]; s++, c++) {
                flushTokens[c] = tokens[id][s];
                System.arraycopy(keys[id], s * headDim, flushKeys, c * headDim, headDim);
                if (!forgetPendingMove(tokens[id][s])) {
                    left.add(tokens[id][s], id, s); // its row is stored at (id, s): the tree's move reads it there
                }
            }
            rows[id] = 0;
            used[id] = false;
            System.arraycopy(live, 1, live, 0, --liveCount);
        }
        for (int i = 0; c < flush; i++, c++) {
            flushTokens[c] = tok[tOff + i];
            System.arraycopy(k, kOff + i * headDim, flushKeys, c * headDim, headDim);
        }
        tree.add(flushKeys, 0, flushTokens, 0, flush);
        if (flushTokens.length > SCRATCH_ROWS) {
            flushTokens = new int[0];
            flushKeys = new float[0];
        }
    }

    private int open() {
        int id = 0;
        while (used[id]) {
            id++;
        }
        used[id] = true;
        rows[id] = 0;
        live[liveCount++] = id;
        return id;
    }

    /** Drops an undrained "new token into the ring" entry of {@code token}; true when there was one. */
    private boolean forgetPendingMove(int token) {
        for (int i = 0; i < moves.count; i++) {
            if (moves.token[i] == token) {
                moves.removeAt(i);
                return true;
            }
        }
        return false;
    }

    /** Moves pending: the ring's own plus the tree's. */
    int pendingMoves(DciTree tree) {
        return moves.count + tree.pendingMoves();
    }

    /**
     * Drains the ring's and the tree's move logs as one, tree ids offset by {@link #idCount()};
     * a token that left the ring for the tree moves from its ring (id, slot).
     */
    void drainMoves(DciTree tree, int[] token, int[] fromPage, int[] fromSlot, int[] toPage, int[] toSlot) {
        int t = tree.pendingMoves();
        int[][] arrays = {token, fromPage, fromSlot, toPage, toSlot};
        for (int[] a : arrays) {
            if (a == null || a.length < moves.count + t) {
                throw new IllegalArgumentException("drainMoves arrays need " + (moves.count + t) + " entries each");
            }
        }
        for (int i = 0; i < moves.count; i++) {
            token[i] = moves.token[i];
            fromPage[i] = DciTree.NO_PAGE;
            fromSlot[i] = -1;
            toPage[i] = moves.id[i];
            toSlot[i] = moves.slot[i];
        }
        if (tk.length < t) {
            tk = new int[t];
            fp = new int[t];
            fs = new int[t];
            tp = new int[t];
            ts = new int[t];
        }
        tree.drainMoves(tk, fp, fs, tp, ts);
        int off = idCount();
        for (int i = 0; i < t; i++) {
            int j = moves.count + i;
            token[j] = tk[i];
            toPage[j] = tp[i] + off;
            toSlot[j] = ts[i];
            if (fp[i] == DciTree.NO_PAGE) {
                int at = indexOfLeft(tk[i]);
                fromPage[j] = at < 0 ? DciTree.NO_PAGE : left.id[at];
                fromSlot[j] = at < 0 ? -1 : left.slot[at];
            } else {
                fromPage[j] = fp[i] + off;
                fromSlot[j] = fs[i];
            }
        }
        moves.count = 0;
        left.count = 0;
        if (tk.length > SCRATCH_ROWS) {
            tk = new int[0];
            fp = new int[0];
            fs = new int[0];
            tp = new int[0];
            ts = new int[0];
        }
    }

    private int indexOfLeft(int token) {
        int lo = 0;
        int hi = left.count - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (left.token[mid] < token) {
                lo = mid + 1;
            } else if (left.token[mid] > token) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    boolean dirty() {
        return dirty;
    }

    /** The snapshot cell: version, capacity, live count, per live page (oldest first) id, rows, rows x (token, key). */
    byte[] cellBytes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeInt(capacity);
            out.writeInt(liveCount);
            for (int i = 0; i < liveCount; i++) {
                int id = live[i];
                out.writeInt(id);
                out.writeInt(rows[id]);
                for (int s = 0; s < rows[id]; s++) {
                    out.writeInt(tokens[id][s]);
                    for (int d = 0; d < headDim; d++) {
                        out.writeFloat(keys[id][s * headDim + d]);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing the recent pages to memory failed", e);
        }
        return bytes.toByteArray();
    }

    /** Marks the cell drained (its bytes were taken). */
    void markClean() {
        dirty = false;
    }

    /**
     * Restores the live pages from a snapshot cell (untrusted bytes: every count, id and token is
     * checked); the move log starts empty.
     */
    void restore(byte[] cell) {
        if (cell == null) {
            throw new IllegalArgumentException("recent-pages snapshot cell=" + CELL + " is missing: the snapshot was"
                    + " written without recent pages (recentPages=0, e.g. by an older build), whose page ids differ;"
                    + " restore it with the same IceCache settings");
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(cell))) {
            int version = in.readByte();
            if (version != VERSION) {
                throw new IllegalArgumentException("recent-pages snapshot has version=" + version + "; this build reads "
                        + VERSION);
            }
            int written = in.readInt();
            if (written != capacity) {
                throw new IllegalArgumentException("recent-pages snapshot was written with " + written + " recent pages;"
                        + " this cache holds " + capacity + " (page ids differ); restore with the same budget and settings");
            }
            int count = in.readInt();
            if (count < 0 || count > capacity) {
                throw new IllegalArgumentException("recent-pages snapshot lists " + count + " pages; at most " + capacity);
            }
            int last = Integer.MIN_VALUE;
            for (int i = 0; i < count; i++) {
                int id = in.readInt();
                int n = in.readInt();
                if (id < 0 || id > capacity || used[id]) {
                    throw new IllegalArgumentException("recent-pages snapshot has a bad or repeated page id=" + id);
                }
                if (n < 1 || n > rowsPerPage || (i + 1 < count && n != rowsPerPage)) {
                    throw new IllegalArgumentException("recent page id=" + id + " holds " + n + " rows; pages before the"
                            + " newest hold " + rowsPerPage + ", the newest 1.." + rowsPerPage);
                }
                used[id] = true;
                live[liveCount++] = id;
                rows[id] = n;
                for (int s = 0; s < n; s++) {
                    int t = in.readInt();
                    if (t <= last) {
                        throw new IllegalArgumentException("recent-pages snapshot tokens not increasing at token=" + t);
                    }
                    last = t;
                    tokens[id][s] = t;
                    lastToken = t;
                    for (int d = 0; d < headDim; d++) {
                        float v = in.readFloat();
                        if (!Float.isFinite(v)) {
                            throw new IllegalArgumentException("recent-pages snapshot key of token=" + t + " is not finite");
                        }
                        keys[id][s * headDim + d] = v;
                    }
                }
            }
            if (in.available() != 0) {
                throw new IllegalArgumentException("recent-pages snapshot has " + in.available() + " trailing bytes");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("recent-pages snapshot cell is truncated: " + e.getMessage(), e);
        }
        dirty = false;
    }

    /** A growable list of (token, ring page id, slot). */
    private static final class Places {
        int[] token = new int[16];
        int[] id = new int[16];
        int[] slot = new int[16];
        int count;

        void add(int t, int page, int s) {
            if (count == token.length) {
                token = Arrays.copyOf(token, count * 2);
                id = Arrays.copyOf(id, count * 2);
                slot = Arrays.copyOf(slot, count * 2);
            }
            token[count] = t;
            id[count] = page;
            slot[count] = s;
            count++;
        }

        void removeAt(int i) {
            System.arraycopy(token, i + 1, token, i, count - i - 1);
            System.arraycopy(id, i + 1, id, i, count - i - 1);
            System.arraycopy(slot, i + 1, slot, i, count - i - 1);
            count--;
        }
    }
}
