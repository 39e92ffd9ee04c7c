package dev.icecache.kvcache.transfer;

import dev.icecache.kvcache.Checks;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageKey;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PagePool;
import dev.icecache.kvcache.page.PageStore;
import java.util.Arrays;

/**
 * The page moves that make a selection resident (icecache.md "Moving pages"): a diff against
 * the resident pages, then one gather, one copy, one scatter for every stream planned together
 * (all KV heads of a layer, and every layer sharing the selection).
 *
 * <pre>
 *   plan(stream):   selected  = {3, 9, 12, 40}       resident = {9 (slot 5), 12 (slot 2, changed), 7 (slot 8)}
 *                   keep      = {9}                  (resident and unchanged)
 *                   fetch     = {3, 12, 40}          (new, or changed since fetched)
 *                   free      = slots 2, 8           (changed or no longer selected; least recently used first)
 *                               + 1 new pool slot    (only while the set is below its capacity)
 *
 *   execute():   store --read--> staging  [ fetch 0 | fetch 1 | fetch 2 | ... ]   contiguous, floatsPerPage each
 *                staging --one copy--> (device/pool)      staging block i --scatter--> pool slot destSlot[i]
 * </pre>
 *
 * Abbreviations: "stream" = one (layer, KV head); "changed" = the pool no longer maps the page to
 * the slot the set remembers (its stored block was rewritten). Plans are reused: {@link #clear()}
 * starts a new one and nothing is allocated once the buffers have grown.
 */
public final class TransferPlan {

    private final PageLayout layout;
    private final PagePool pool;
    private long step;
    // fetches of the current plan, in staging order
    private int fetchCount;
    private int[] fetchLayer;
    private int[] fetchHead;
    private int[] fetchPage;
    private int[] fetchSlot;
    private int[] fetchRows;
    private float[] staging;                  // [fetch][floatsPerPage]
    private int keptCount;
    // stamps by page id for the stream being planned
    private int[] selectedMark = new int[64];
    private int[] keptMark = new int[64];
    private boolean[] victimUsed = new boolean[0];
    private int generation;

    /** Plans moves into {@code pool}; buffers grow on demand. */
    public TransferPlan(PagePool pool) {
        this(pool, 16);
    }

    /**
     * Plans moves into {@code pool} with buffers sized for {@code expectedFetches} pages per plan, so
     * that a caller who knows its bound (KV heads x retrieved pages) never allocates afterwards.
     */
    public TransferPlan(PagePool pool, int expectedFetches) {
        Checks.checkArgument(pool != null, "pool must not be null");
        Checks.checkArgument(expectedFetches >= 1, "expectedFetches=%d must be >= 1", expectedFetches);
        this.pool = pool;
        this.layout = pool.layout();
        fetchLayer = new int[expectedFetches];
        fetchHead = new int[expectedFetches];
        fetchPage = new int[expectedFetches];
        fetchSlot = new int[expectedFetches];
        fetchRows = new int[expectedFetches];
        staging = new float[layout.floatsFor(expectedFetches)];
    }

    /** Starts a new plan (one step). */
    public void clear() {
        fetchCount = 0;
        keptCount = 0;
        step++;
    }

    /**
     * Adds one stream's diff: after {@link #execute}, every page of {@code selected[0..n)} is in one
     * of the set's slots, current, and mapped by the pool.
     *
     * @return false, changing nothing, when the pool has no slot for a page the set cannot place in
     *         a slot it already holds (back-pressure)
     * @throws IllegalArgumentException when {@code n} exceeds the set's capacity
     */
    public boolean plan(ResidentSet set, int[] selected, int n) {
        if (n > set.capacity) {
            throw new IllegalArgumentException(String.format("selection of n=%d pages exceeds the resident capacity=%d",
                    n, set.capacity));
        }
        int gen = nextGeneration();
        int maxId = 0;
        for (int i = 0; i < n; i++) {
            if (selected[i] < 0) {
                throw new IllegalArgumentException(String.format("page id=%d must be >= 0", selected[i]));
            }
            maxId = Math.max(maxId, selected[i]);
        }
        ensureMarks(maxId + 1, set.capacity);
        for (int i = 0; i < n; i++) {
            if (selectedMark[selected[i]] == gen) {
                throw new IllegalArgumentException(String.format("page id=%d selected twice", selected[i]));
            }
            selectedMark[selected[i]] = gen;
        }
        int kept = 0;
        for (int e = 0; e < set.count; e++) {
            int p = set.pages[e];
            boolean keep = p >= 0 && p <= maxId && selectedMark[p] == gen
                    && pool.slotOf(PageKey.of(set.layer, set.kvHead, p)) == set.slots[e];
            victimUsed[e] = keep;
            if (keep) {
                keptMark[p] = gen;
                set.lastUsed[e] = step;
                kept++;
            }
        }
        int fetches = n - kept;
        int newSlots = Math.max(0, fetches - (set.count - kept));
        if (!pool.tryReserve(newSlots)) {
            return false;
        }
        for (int i = 0; i < newSlots; i++) {
            int e = set.count++;
            set.slots[e] = pool.take();
            set.pages[e] = ResidentSet.NONE;
            set.lastUsed[e] = Long.MIN_VALUE;
            victimUsed[e] = false;
        }
        for (int i = 0; i < n; i++) {
            int p = selected[i];
            if (keptMark[p] != gen) {
                int e = victim(set);
                victimUsed[e] = true;
                set.pages[e] = p;
                set.lastUsed[e] = step;
                pool.assign(set.slots[e], PageKey.of(set.layer, set.kvHead, p));
                addFetch(set.layer, set.kvHead, p, set.slots[e]);
            }
        }
        keptCount += kept;
        return true;
    }

    /** The unused entry whose page is absent or stale first, then the least recently used. */
    private int victim(ResidentSet set) {
        int best = -1;
        for (int e = 0; e < set.count; e++) {
            if (victimUsed[e]) {
                continue;
            }
            if (set.pages[e] < 0 || pool.slotOf(PageKey.of(set.layer, set.kvHead, set.pages[e])) != set.slots[e]) {
                return e;
            }
            if (best < 0 || set.lastUsed[e] < set.lastUsed[best]) {
                best = e;
            }
        }
        if (best < 0) {
            throw new IllegalStateException("no free entry in the resident set; plan counted wrong");
        }
        return best;
    }

    /**
     * Gathers every planned page from {@code store} into the staging buffer (block i at
     * {@code i * floatsPerPage}), then scatters the staging blocks into their pool slots.
     *
     * @throws IllegalStateException when a planned page is absent from the store
     */
    public void execute(PageStore store) {
        int fpp = layout.floatsPerPage();
        if (staging.length < layout.floatsFor(fetchCount)) {
            staging = new float[layout.floatsFor(Math.max(fetchCount, 2 * (staging.length / fpp)))];
        }
        for (int i = 0; i < fetchCount; i++) {
            int rows = store.read(fetchLayer[i], fetchHead[i], fetchPage[i], staging, layout.blockOffset(i));
            if (rows == PageStore.ABSENT) {
                throw new IllegalStateException(String.format(
                        "page layer=%d kvHead=%d id=%d selected but not in the store",
                        fetchLayer[i], fetchHead[i], fetchPage[i]));
            }
            fetchRows[i] = rows;
        }
        float[] data = pool.data();
        for (int i = 0; i < fetchCount; i++) {
            System.arraycopy(staging, layout.blockOffset(i), data, pool.offset(fetchSlot[i]), fpp);
        }
    }

    /** Pages fetched by this plan. */
    public int fetchCount() {
        return fetchCount;
    }

    /** Selected pages that stayed resident. */
    public int keptCount() {
        return keptCount;
    }

    /** Page id of fetch {@code i}. */
    public int fetchPage(int i) {
        return fetchPage[Checks.checkIndex(i, fetchCount)];
    }

    /** Destination pool slot of fetch {@code i}. */
    public int fetchSlot(int i) {
        return fetchSlot[Checks.checkIndex(i, fetchCount)];
    }

    /** Layer of fetch {@code i}. */
    public int fetchLayer(int i) {
        return fetchLayer[Checks.checkIndex(i, fetchCount)];
    }

    /** KV head of fetch {@code i}. */
    public int fetchHead(int i) {
        return fetchHead[Checks.checkIndex(i, fetchCount)];
    }

    /** Valid rows read for fetch {@code i} (after {@link #execute}). */
    public int fetchRows(int i) {
        return fetchRows[Checks.checkIndex(i, fetchCount)];
    }

    /** Offset of fetch {@code i}'s block in the staging buffer. */
    public int stagingOffset(int i) {
        return layout.blockOffset(Checks.checkIndex(i, fetchCount));
    }

    /** The staging buffer (valid after {@link #execute}). */
    public float[] staging() {
        return staging;
    }

    /** Bytes moved from the store by this plan (float32 blocks). */
    public long bytesMoved() {
        return (long) fetchCount * layout.bytesPerPage(PageFormat.F32);
    }

    private void addFetch(int layer, int kvHead, int page, int slot) {
        if (fetchCount == fetchPage.length) {
            int cap = fetchCount * 2;
            fetchLayer = Arrays.copyOf(fetchLayer, cap);
            fetchHead = Arrays.copyOf(fetchHead, cap);
            fetchPage = Arrays.copyOf(fetchPage, cap);
            fetchSlot = Arrays.copyOf(fetchSlot, cap);
            fetchRows = Arrays.copyOf(fetchRows, cap);
        }
        fetchLayer[fetchCount] = layer;
        fetchHead[fetchCount] = kvHead;
        fetchPage[fetchCount] = page;
        fetchSlot[fetchCount] = slot;
        fetchCount++;
    }

    private int nextGeneration() {
        if (++generation == Integer.MAX_VALUE) {
            Arrays.fill(selectedMark, 0);
            Arrays.fill(keptMark, 0);
            generation = 1;
        }
        return generation;
    }

    private void ensureMarks(int ids, int entries) {
        if (selectedMark.length < ids) {
            int cap = Math.max(ids, selectedMark.length * 2);
            selectedMark = Arrays.copyOf(selectedMark, cap);
            keptMark = Arrays.copyOf(keptMark, cap);
        }
        if (victimUsed.length < entries) {
            victimUsed = new boolean[entries];
        }
    }
}
