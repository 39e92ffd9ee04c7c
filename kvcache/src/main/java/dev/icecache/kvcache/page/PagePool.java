package dev.icecache.kvcache.page;

import dev.icecache.kvcache.Checks;

/**
 * The resident tier: a fixed number of page slots in one float array, a free list, pins, and
 * which page (packed {@link PageKey}) each slot holds. It never decides which pages should be
 * resident (style.md rule 3): callers count first ({@link #tryReserve}), then take slots.
 *
 * <pre>
 *   data: | slot 0 block | slot 1 block | ... | slot capacity-1 block |   (blocks as in PageLayout)
 *   a slot is FREE (on the free list), RESERVED (counted, not yet taken) or TAKEN;
 *   a TAKEN slot may be pinned (pin count &gt; 0): it cannot be released until unpinned
 * </pre>
 */
public final class PagePool {

    /** Returned by {@link #slotOf} for a page that is not resident. */
    public static final int NOT_RESIDENT = -1;

    private final PageLayout layout;
    private final int capacity;
    private final float[] data;          // [slot][2][row][headDim]
    private final int[] freeList;        // stack of free slots: freeList[0..freeCount)
    private int freeCount;
    private int reserved;                // free slots promised to callers of tryReserve
    private final boolean[] taken;       // [slot]
    private final int[] pins;            // [slot] pin count
    private final long[] owner;          // [slot] packed PageKey, meaningful when assigned
    private final boolean[] assigned;    // [slot] owner set
    private final LongIntMap slotByKey;  // owner -> slot
    private int peakTaken;

    /**
     * A pool of {@code capacityPages} slots of {@code layout}.
     *
     * @throws IllegalArgumentException when the pool would exceed one Java array
     */
    public PagePool(PageLayout layout, int capacityPages) {
        Checks.checkArgument(layout != null, "layout must not be null");
        Checks.checkArgument(capacityPages > 0, "capacityPages=%d must be > 0", capacityPages);
        long floats = (long) capacityPages * layout.floatsPerPage();
        Checks.checkArgument(floats <= Integer.MAX_VALUE - 8,
                "pool of capacityPages=%d x %d floats exceeds one Java array; lower the budget or headDim",
                capacityPages, layout.floatsPerPage());
        this.layout = layout;
        this.capacity = capacityPages;
        this.data = new float[(int) floats];
        this.freeList = new int[capacityPages];
        for (int i = 0; i < capacityPages; i++) {
            freeList[i] = capacityPages - 1 - i; // slot 0 is taken first
        }
        this.freeCount = capacityPages;
        this.taken = new boolean[capacityPages];
        this.pins = new int[capacityPages];
        this.owner = new long[capacityPages];
        this.assigned = new boolean[capacityPages];
        this.slotByKey = new LongIntMap(capacityPages);
    }

    /** The block layout of every slot. */
    public PageLayout layout() {
        return layout;
    }

    /** Slots in the pool. */
    public int capacity() {
        return capacity;
    }

    /** Slots taken now. */
    public int takenSlots() {
        return capacity - freeCount;
    }

    /** The most slots ever taken at once. */
    public int peakTakenSlots() {
        return peakTaken;
    }

    /** Free slots not promised by {@link #tryReserve}. */
    public int availableSlots() {
        return freeCount - reserved;
    }

    /** Bytes of the blocks of the taken slots (float32 resident copies). */
    public long residentBytes() {
        return (long) takenSlots() * layout.bytesPerPage(PageFormat.F32);
    }

    /** Bytes of the whole pool array, taken or not. */
    public long capacityBytes() {
        return (long) capacity * layout.bytesPerPage(PageFormat.F32);
    }

    /**
     * Promises {@code n} slots to the caller for later {@link #take()} calls, or nothing.
     *
     * @return false, changing nothing, when fewer than {@code n} slots are available (back-pressure)
     */
    public boolean tryReserve(int n) {
        if (n < 0) {
            throw new IllegalArgumentException(String.format("n=%d must be >= 0", n));
        }
        if (availableSlots() < n) {
            return false;
        }
        reserved += n;
        return true;
    }

    /** Gives back {@code n} reserved slots that will not be taken. */
    public void cancelReservation(int n) {
        if (n < 0 || n > reserved) {
            throw new IllegalArgumentException(String.format("n=%d must be in [0, reserved=%d]", n, reserved));
        }
        reserved -= n;
    }

    /** Takes one reserved slot; its block content is whatever the last owner left. */
    public int take() {
        if (reserved <= 0) {
            throw new IllegalStateException("take() without a reservation; call tryReserve first");
        }
        reserved--;
        int slot = freeList[--freeCount];
        taken[slot] = true;
        peakTaken = Math.max(peakTaken, takenSlots());
        return slot;
    }

    /** Returns a taken, unpinned slot to the free list, dropping its owner. */
    public void release(int slot) {
        checkTaken(slot);
        if (pins[slot] != 0) {
            throw new IllegalStateException(String.format("release of pinned slot=%d pins=%d; unpin it first",
                    slot, pins[slot]));
        }
        unassign(slot);
        taken[slot] = false;
        freeList[freeCount++] = slot;
    }

    /** Records that {@code slot} holds the page {@code key}; replaces any earlier owner. */
    public void assign(int slot, long key) {
        checkTaken(slot);
        int other = slotByKey.get(key);
        if (other != LongIntMap.MISSING && other != slot) {
            throw new IllegalStateException(String.format(
                    "page key=%x already resident in slot=%d, cannot also assign slot=%d",
                    
                    key, other, slot));
        }
        unassign(slot);
        owner[slot] = key;
        assigned[slot] = true;
        slotByKey.put(key, slot);
    }

    /** Forgets the owner of {@code slot} (its content is stale); the slot stays taken. */
    public void unassign(int slot) {
        checkTaken(slot);
        if (assigned[slot]) {
            slotByKey.remove(owner[slot]);
            assigned[slot] = false;
        }
    }

    /** The slot holding page {@code key}, or {@link #NOT_RESIDENT}. */
    public int slotOf(long key) {
        int s = slotByKey.get(key);
        return s == LongIntMap.MISSING ? NOT_RESIDENT : s;
    }

    /** Pins a taken slot (sink and window pages stay pinned while they are sink or window). */
    public void pin(int slot) {
        checkTaken(slot);
        pins[slot]++;
    }

    /** Undoes one {@link #pin}. */
    public void unpin(int slot) {
        checkTaken(slot);
        if (pins[slot] <= 0) {
            throw new IllegalStateException(String.format("unpin of slot=%d that is not pinned", slot));
        }
        pins[slot]--;
    }

    /** True when the slot has pins. */
    public boolean isPinned(int slot) {
        return pins[Checks.checkIndex(slot, capacity)] > 0;
    }

    /** The pool's float array; slot {@code s}'s block starts at {@link #offset}(s). */
    public float[] data() {
        return data;
    }

    /** Offset of slot {@code slot}'s block in {@link #data()}. */
    public int offset(int slot) {
        return layout.blockOffset(Checks.checkIndex(slot, capacity));
    }

    /** Checks free list, taken flags, reservations and the owner map against each other. */
    void checkInvariants() {
        if (freeCount < 0 || freeCount > capacity || reserved < 0 || reserved > freeCount) {
            throw new AssertionError("freeCount=" + freeCount + " reserved=" + reserved + " capacity=" + capacity);
        }
        boolean[] seen = new boolean[capacity];
        for (int i = 0; i < freeCount; i++) {
            int s = freeList[i];
            if (taken[s] || seen[s] || pins[s] != 0 || assigned[s]) {
                throw new AssertionError("free slot=" + s + " is taken, duplicated, pinned or assigned");
            }
            seen[s] = true;
        }
        int assignedCount = 0;
        for (int s = 0; s < capacity; s++) {
            if (!seen[s] && !taken[s]) {
                throw new AssertionError("slot=" + s + " neither free nor taken");
            }
            if (assigned[s]) {
                assignedCount++;
                if (slotByKey.get(owner[s]) != s) {
                    throw new AssertionError("slot=" + s + " owner not mapped back to it");
                }
            }
        }
        if (assignedCount != slotByKey.size()) {
            throw new AssertionError("assigned=" + assignedCount + " but map size=" + slotByKey.size());
        }
    }

    private void checkTaken(int slot) {
        Checks.checkIndex(slot, capacity);
        if (!taken[slot]) {
            throw new IllegalStateException(String.format("slot=%d is not taken", slot));
        }
    }
}
