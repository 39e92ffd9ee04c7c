package dev.icecache.kvcache.transfer;

import dev.icecache.kvcache.Checks;

/**
 * The retrieved pages one (layer, KV head) holds in the pool: up to {@code capacity} pool slots,
 * each with the page it was last filled with. Whether that copy is still current is the pool's
 * to say: a page whose stored block changed is unassigned from its slot ({@code PagePool.unassign}),
 * and the next {@link TransferPlan} treats it as not resident.
 *
 * <pre>
 *   entry e in 0..count-1:  slots[e] (pool slot, owned)   pages[e] (page id or NONE)   lastUsed[e] (plan step)
 * </pre>
 */
public final class ResidentSet {

    /** Page id of an entry whose slot holds no page. */
    public static final int NONE = -1;

    final int layer;
    final int kvHead;
    final int capacity;
    final int[] slots;     // [capacity]
    final int[] pages;     // [capacity]
    final long[] lastUsed; // [capacity]
    int count;

    /** An empty set of at most {@code capacity} slots for one (layer, KV head). */
    public ResidentSet(int layer, int kvHead, int capacity) {
        Checks.checkArgument(capacity >= 0, "capacity=%d must be >= 0", capacity);
        this.layer = layer;
        this.kvHead = kvHead;
        this.capacity = capacity;
        this.slots = new int[capacity];
        this.pages = new int[capacity];
        this.lastUsed = new long[capacity];
    }

    /** Slots held. */
    public int count() {
        return count;
    }

    /** Most slots this set may hold. */
    public int capacity() {
        return capacity;
    }

    /** Pool slot of entry {@code e}. */
    public int slot(int e) {
        return slots[Checks.checkIndex(e, count)];
    }

    /** Page last written into entry {@code e}'s slot, or {@link #NONE}. */
    public int page(int e) {
        return pages[Checks.checkIndex(e, count)];
    }

    /** The layer of this set. */
    public int layer() {
        return layer;
    }

    /** The KV head of this set. */
    public int kvHead() {
        return kvHead;
    }
}
