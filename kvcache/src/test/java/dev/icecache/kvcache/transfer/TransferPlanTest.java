package dev.icecache.kvcache.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageKey;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PagePool;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

class TransferPlanTest {

    private static final PageLayout LAYOUT = new PageLayout(4, 2);

    /** A block whose every float names (head, page, version, index), so any mix-up shows. */
    private static float[] block(int head, int page, int version) {
        float[] b = new float[LAYOUT.floatsPerPage()];
        for (int i = 0; i < b.length; i++) {
            b[i] = head * 1_000_000 + page * 1000 + version * 100 + i;
        }
        return b;
    }

    @Property(tries = 150)
    void shouldMakeEverySelectedPageResidentMovingOnlyNewOrChangedPages(
            @ForAll @LongRange(min = 1, max = Long.MAX_VALUE) long seed,
            @ForAll @IntRange(min = 1, max = 3) int heads,
            @ForAll @IntRange(min = 0, max = 10) int capacity,
            @ForAll @IntRange(min = 1, max = 40) int universe) {
        SplittableRandom rnd = new SplittableRandom(seed);
        String ctx = "seed=" + seed + " heads=" + heads + " capacity=" + capacity + " universe=" + universe;
        InMemoryPageStore store = new InMemoryPageStore(LAYOUT, PageFormat.F32);
        int[][] version = new int[heads][universe];
        for (int h = 0; h < heads; h++) {
            for (int p = 0; p < universe; p++) {
                store.write(0, h, p, block(h, p, 0), 0, 1 + rnd.nextInt(4));
            }
        }
        PagePool pool = new PagePool(LAYOUT, heads * capacity + 1);
        ResidentSet[] sets = new ResidentSet[heads];
        for (int h = 0; h < heads; h++) {
            sets[h] = new ResidentSet(0, h, capacity);
        }
        TransferPlan plan = new TransferPlan(pool);
        for (int step = 0; step < 25; step++) {
            // some stored pages change; their resident copies are unassigned, as PagedKvCache does
            for (int h = 0; h < heads; h++) {
                for (int p = 0; p < universe; p++) {
                    if (rnd.nextInt(10) == 0) {
                        version[h][p]++;
                        store.write(0, h, p, block(h, p, version[h][p]), 0, 4);
                        int slot = pool.slotOf(PageKey.of(0, h, p));
                        if (slot != PagePool.NOT_RESIDENT) {
                            pool.unassign(slot);
                        }
                    }
                }
            }
            int[][] selected = new int[heads][];
            Set<Long> current = new HashSet<>();
            for (int h = 0; h < heads; h++) {
                for (int e = 0; e < sets[h].count(); e++) {
                    int p = sets[h].page(e);
                    if (p >= 0 && pool.slotOf(PageKey.of(0, h, p)) == sets[h].slot(e)) {
                        current.add(PageKey.of(0, h, p));
                    }
                }
            }
            plan.clear();
            int expectedFetches = 0;
            for (int h = 0; h < heads; h++) {
                int[] perm = rnd.ints(0, universe).distinct().limit(Math.min(universe, rnd.nextInt(capacity + 1)))
                        .toArray();
                selected[h] = perm;
                for (int p : perm) {
                    expectedFetches += current.contains(PageKey.of(0, h, p)) ? 0 : 1;
                }
                assertTrue(plan.plan(sets[h], perm, perm.length), ctx);
            }
            plan.execute(store);
            assertEquals(expectedFetches, plan.fetchCount(), ctx + " step=" + step + ": only new or changed pages move");
            Set<Integer> slots = new HashSet<>();
            for (int h = 0; h < heads; h++) {
                assertTrue(sets[h].count() <= capacity, ctx);
                for (int e = 0; e < sets[h].count(); e++) {
                    assertTrue(slots.add(sets[h].slot(e)), ctx + " slot " + sets[h].slot(e) + " double-booked");
                }
                for (int p : selected[h]) {
                    int slot = pool.slotOf(PageKey.of(0, h, p));
                    assertNotEquals(PagePool.NOT_RESIDENT, slot, ctx + " page " + p + " not resident");
                    float[] want = new float[LAYOUT.floatsPerPage()];
                    int rows = store.read(0, h, p, want, 0);
                    float[] got = Arrays.copyOfRange(pool.data(), pool.offset(slot), pool.offset(slot) + want.length);
                    assertArrayEquals(want, got, ctx + " step=" + step + " head=" + h + " page=" + p + " rows=" + rows);
                }
            }
            for (int i = 0; i < plan.fetchCount(); i++) {
                assertEquals(i * LAYOUT.floatsPerPage(), plan.stagingOffset(i), ctx + " staging not contiguous");
                long key = PageKey.of(0, plan.fetchHead(i), plan.fetchPage(i));
                assertFalse(current.contains(key), ctx + " moved a resident, unchanged page");
                float[] want = new float[LAYOUT.floatsPerPage()];
                store.read(0, plan.fetchHead(i), plan.fetchPage(i), want, 0);
                assertArrayEquals(want, Arrays.copyOfRange(plan.staging(), plan.stagingOffset(i),
                        plan.stagingOffset(i) + want.length), ctx);
            }
            assertTrue(pool.takenSlots() <= heads * capacity, ctx);
        }
    }

    @Property(tries = 50)
    void shouldRefuseWithoutChangesWhenThePoolIsFull(@ForAll @IntRange(min = 1, max = 8) int capacity) {
        PagePool pool = new PagePool(LAYOUT, capacity);
        InMemoryPageStore store = new InMemoryPageStore(LAYOUT, PageFormat.F32);
        for (int p = 0; p <= capacity; p++) {
            store.write(0, 0, p, block(0, p, 0), 0, 4);
        }
        pool.tryReserve(1); // someone else holds one slot
        pool.take();
        ResidentSet set = new ResidentSet(0, 0, capacity);
        int[] all = new int[capacity];
        Arrays.setAll(all, i -> i);
        TransferPlan plan = new TransferPlan(pool);
        plan.clear();
        assertFalse(plan.plan(set, all, capacity));
        assertEquals(0, set.count());
        assertEquals(0, plan.fetchCount());
        assertEquals(capacity - 1, pool.availableSlots());
    }
}
