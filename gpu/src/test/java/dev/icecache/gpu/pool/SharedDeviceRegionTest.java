package dev.icecache.gpu.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The GPU's shared page region against a fake device: placement, budget, return, no overlap. */
class SharedDeviceRegionTest {

    /** A fake cuMemAlloc: counts allocations and frees. */
    private static final class FakeMemory implements SharedDeviceRegion.Memory {
        static int allocated;
        static int freed;
        final long bytes;

        FakeMemory(long bytes) {
            this.bytes = bytes;
            allocated++;
        }

        @Override
        public long address() {
            return 1L << 40;
        }

        @Override
        public void close() {
            freed++;
        }
    }

    @Test
    void shouldAllocateOnceAtTheFirstLeaseAndFreeOnClose() {
        FakeMemory.allocated = 0;
        FakeMemory.freed = 0;
        SharedDeviceRegion r = new SharedDeviceRegion(1 << 20, 1 << 20, FakeMemory::new);
        assertFalse(r.allocated());
        SharedDeviceRegion.Lease a = r.lease("doc-a", 1000);
        SharedDeviceRegion.Lease b = r.lease("doc-b", 1000);
        assertEquals(1, FakeMemory.allocated);
        assertEquals(1024, a.bytes());
        assertEquals((1L << 40) + 1024, b.address());
        a.close();
        a.close();
        assertEquals(1024, r.usedBytes());
        r.close();
        assertEquals(1, FakeMemory.freed);
        assertThrows(IllegalStateException.class, () -> r.lease("doc-c", 10));
    }

    @Test
    void shouldRejectADocumentOverItsBudgetAndAFullRegionWithOneLine() {
        SharedDeviceRegion r = new SharedDeviceRegion(4096, 2048, FakeMemory::new);
        IllegalArgumentException over = assertThrows(IllegalArgumentException.class, () -> r.lease("big", 3000));
        assertTrue(over.getMessage().contains("per-document device budget"), over.getMessage());
        r.lease("a", 2048);
        r.lease("b", 2048);
        IllegalStateException full = assertThrows(IllegalStateException.class, () -> r.lease("c", 256));
        assertTrue(full.getMessage().startsWith("device region full: document c"), full.getMessage());
        assertFalse(full.getMessage().contains("\n"));
    }

    @Test
    void shouldKeepEveryByteWhenTheRegionsAllocationFails() {
        boolean[] fail = {true};
        SharedDeviceRegion r = new SharedDeviceRegion(4096, 4096, bytes -> {
            if (fail[0]) {
                throw new IllegalStateException("cuMemAlloc: out of memory");
            }
            return new FakeMemory(bytes);
        });
        assertThrows(IllegalStateException.class, () -> r.lease("a", 4096));
        assertEquals(0, r.usedBytes());
        fail[0] = false;
        assertEquals(4096, r.lease("a", 4096).bytes());
    }

    @Test
    void shouldNeverOverlapLeasesAndGiveEveryByteBackWhenDocumentsUnload() {
        long capacity = 1 << 16;
        SharedDeviceRegion r = new SharedDeviceRegion(capacity, capacity, FakeMemory::new);
        SplittableRandom rnd = new SplittableRandom(7);
        List<SharedDeviceRegion.Lease> live = new ArrayList<>();
        for (int step = 0; step < 5000; step++) {
            if (!live.isEmpty() && rnd.nextInt(3) == 0) {
                live.remove(rnd.nextInt(live.size())).close();
            } else {
                try {
                    live.add(r.lease("d" + step, 1 + rnd.nextInt(8000)));
                } catch (IllegalStateException full) {
                    assertTrue(full.getMessage().startsWith("device region full"));
                }
            }
            long sum = 0;
            for (SharedDeviceRegion.Lease a : live) {
                sum += a.bytes();
                assertTrue(a.offset() % SharedDeviceRegion.ALIGN == 0 && a.offset() + a.bytes() <= capacity);
                for (SharedDeviceRegion.Lease b : live) {
                    assertTrue(a == b || a.offset() + a.bytes() <= b.offset() || b.offset() + b.bytes() <= a.offset(),
                            "leases overlap at step " + step);
                }
            }
            assertEquals(sum, r.usedBytes());
            assertEquals(live.size(), r.leases());
        }
        live.forEach(SharedDeviceRegion.Lease::close);
        assertEquals(0, r.usedBytes());
        // every free range merged back: the whole region leases again in one piece
        assertEquals(capacity, r.lease("all", capacity).bytes());
    }
}
