package dev.icecache.kvcache.page;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PagePoolTest {

    @Test
    void shouldRefuseReservationBeyondCapacityWithoutChangingAnything() {
        PagePool pool = new PagePool(PageLayout.of(8), 3);
        assertTrue(pool.tryReserve(2));
        assertFalse(pool.tryReserve(2));
        assertEquals(1, pool.availableSlots());
        int a = pool.take();
        int b = pool.take();
        assertNotEquals(a, b);
        assertEquals(2, pool.takenSlots());
        assertEquals(2L * 16 * 8 * 2 * 4, pool.residentBytes());
        pool.checkInvariants();
        assertThrows(IllegalStateException.class, pool::take);
    }

    @Test
    void shouldNotReleaseAPinnedSlot() {
        PagePool pool = new PagePool(PageLayout.of(4), 2);
        pool.tryReserve(1);
        int s = pool.take();
        pool.pin(s);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.release(s));
        assertEquals("release of pinned slot=" + s + " pins=1; unpin it first", e.getMessage());
        pool.unpin(s);
        pool.release(s);
        assertEquals(0, pool.takenSlots());
        pool.checkInvariants();
    }

    @Test
    void shouldMapOwnersToSlotsThroughRandomChurn() {
        long seed = 17;
        SplittableRandom rnd = new SplittableRandom(seed);
        PagePool pool = new PagePool(PageLayout.of(4), 8);
        List<Integer> takenSlots = new ArrayList<>();
        long nextKey = 1;
        for (int op = 0; op < 2000; op++) {
            if (takenSlots.isEmpty() || (rnd.nextBoolean() && pool.tryReserve(1))) {
                if (takenSlots.isEmpty() && !pool.tryReserve(1)) {
                    throw new AssertionError("empty pool refused a reservation");
                }
                int s = pool.take();
                long key = nextKey++;
                pool.assign(s, key);
                assertEquals(s, pool.slotOf(key), "seed=" + seed);
                takenSlots.add(s);
            } else {
                int s = takenSlots.remove(rnd.nextInt(takenSlots.size()));
                pool.release(s);
            }
            pool.checkInvariants();
            assertTrue(pool.takenSlots() <= pool.capacity());
        }
        assertEquals(PagePool.NOT_RESIDENT, pool.slotOf(-5));
        assertEquals(8, pool.peakTakenSlots());
    }
}
