package dev.icecache.gpu.pool;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongFunction;

/**
 * The one page region of a GPU (issue 14), shared by the documents of every decoder subtask placed
 * on that GPU: allocated once, at the first lease, then carved into one contiguous lease per
 * document (its pool slots, current chunk and dense layers: {@code ResidentSlots}). A lease is
 * bounded by the per-document budget; returning it (the document is unloaded, its cache closed)
 * gives its bytes back, so the pages of unloaded documents leave the device.
 *
 * <pre>
 *   [ lease A | free | lease B | lease C | free ... ]   first fit, 256-byte aligned; adjacent free ranges merge
 * </pre>
 *
 * Thread-safe (subtasks of a TaskManager lease from their own threads).
 */
public final class SharedDeviceRegion implements AutoCloseable {

    /** Alignment of every lease (cuMemAlloc's). */
    static final long ALIGN = 256;

    /** Device memory of the whole region (a cuMemAlloc, or a fake in tests). */
    public interface Memory extends AutoCloseable {
        /** Device address of byte 0. */
        long address();

        @Override
        void close();
    }

    /** One document's part of the region; closing it returns the bytes (idempotent). */
    public final class Lease implements AutoCloseable {
        private final String owner;
        private final long offset;
        private final long bytes;
        private boolean returned;

        private Lease(String owner, long offset, long bytes) {
            this.owner = owner;
            this.offset = offset;
            this.bytes = bytes;
        }

        /** Byte offset in the region. */
        public long offset() {
            return offset;
        }

        /** Bytes leased (aligned). */
        public long bytes() {
            return bytes;
        }

        /** Device address of the lease's first byte. */
        public long address() {
            synchronized (SharedDeviceRegion.this) {
                return memory.address() + offset;
            }
        }

        /** Who holds it (for messages). */
        public String owner() {
            return owner;
        }

        @Override
        public void close() {
            synchronized (SharedDeviceRegion.this) {
                if (!returned) {
                    returned = true;
                    giveBack(this);
                }
            }
        }
    }

    private final long capacityBytes;
    private final long documentBudgetBytes;
    private final LongFunction<Memory> allocate;
    private Memory memory;
    private final TreeMap<Long, Long> free = new TreeMap<>();  // offset -> length
    private long usedBytes;
    private int leases;
    private boolean closed;

    /**
     * A region of {@code capacityBytes}, each document's lease at most {@code documentBudgetBytes}.
     *
     * @param allocate allocates the whole region (called once, at the first lease)
     */
    public SharedDeviceRegion(long capacityBytes, long documentBudgetBytes, LongFunction<Memory> allocate) {
        if (capacityBytes < ALIGN || documentBudgetBytes < ALIGN || allocate == null) {
            throw new IllegalArgumentException("device region capacity=" + capacityBytes + " bytes, document budget="
                    + documentBudgetBytes + " bytes: both must be >= " + ALIGN);
        }
        this.capacityBytes = capacityBytes / ALIGN * ALIGN;
        this.documentBudgetBytes = documentBudgetBytes;
        this.allocate = allocate;
        free.put(0L, this.capacityBytes);
    }

    /**
     * Leases {@code bytes} for {@code owner}.
     *
     * @throws IllegalArgumentException when one document needs more than the per-document budget
     * @throws IllegalStateException when the region has no free range that large (other documents hold it)
     */
    public synchronized Lease lease(String owner, long bytes) {
        if (closed) {
            throw new IllegalStateException("device region is closed");
        }
        long need = (Math.max(1, bytes) + ALIGN - 1) / ALIGN * ALIGN;
        if (need > documentBudgetBytes) {
            throw new IllegalArgumentException("document " + owner + " needs " + (need >> 20) + " MiB of device pages, "
                    + "over the per-document device budget of " + (documentBudgetBytes >> 20) + " MiB; lower its "
                    + "context length or budget, or raise the device budget");
        }
        for (Map.Entry<Long, Long> e : free.entrySet()) {
            long at = e.getKey();
            long len = e.getValue();
            if (len >= need) {
                if (memory == null) {
                    memory = allocate.apply(capacityBytes);   // may throw: nothing changed yet
                }
                // read before remove: TreeMap may reuse the removed entry's node for its successor
                free.remove(at);
                if (len > need) {
                    free.put(at + need, len - need);
                }
                usedBytes += need;
                leases++;
                return new Lease(owner, at, need);
            }
        }
        throw new IllegalStateException("device region full: document " + owner + " needs " + (need >> 20) + " MiB, "
                + ((capacityBytes - usedBytes) >> 20) + " MiB free of " + (capacityBytes >> 20) + " MiB in "
                + leases + " leases (largest free range " + (largestFree() >> 20) + " MiB)");
    }

    private void giveBack(Lease l) {
        long at = l.offset;
        long len = l.bytes;
        Map.Entry<Long, Long> before = free.floorEntry(at);
        if (before != null && before.getKey() + before.getValue() == at) {
            at = before.getKey();
            len += before.getValue();
            free.remove(at);
        }
        Long after = free.get(l.offset + l.bytes);
        if (after != null) {
            free.remove(l.offset + l.bytes);
            len += after;
        }
        free.put(at, len);
        usedBytes -= l.bytes;
        leases--;
    }

    private long largestFree() {
        long m = 0;
        for (long len : free.values()) {
            m = Math.max(m, len);
        }
        return m;
    }

    /** Bytes leased now. */
    public synchronized long usedBytes() {
        return usedBytes;
    }

    /** Leases held now. */
    public synchronized int leases() {
        return leases;
    }

    /** The region's size. */
    public long capacityBytes() {
        return capacityBytes;
    }

    /** The most one document may lease. */
    public long documentBudgetBytes() {
        return documentBudgetBytes;
    }

    /** The region's memory (null before the first lease). */
    public synchronized Memory memory() {
        return memory;
    }

    /** Whether the region's memory has been allocated (at the first lease). */
    public synchronized boolean allocated() {
        return memory != null;
    }

    /** Frees the region's memory; leases still held become invalid. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            if (memory != null) {
                memory.close();
                memory = null;
            }
        }
    }
}
