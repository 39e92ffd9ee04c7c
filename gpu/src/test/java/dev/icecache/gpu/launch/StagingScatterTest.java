package dev.icecache.gpu.launch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PagePool;
import dev.icecache.kvcache.transfer.ResidentSet;
import dev.icecache.kvcache.transfer.TransferPlan;

/**
 * A device page move (pinned staging in StagingLayout, one copy, scatter_pages) leaves the device
 * pool exactly as the CPU TransferPlan leaves the host pool.
 */
class StagingScatterTest {

    @Test
    void shouldLeaveTheDevicePoolEqualToTheCpuPoolAfterEveryPlan() {
        for (long seed = 1; seed <= 10; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            PageLayout layout = new PageLayout(16, 4 + 4 * rnd.nextInt(8));
            int heads = 1 + rnd.nextInt(3);
            int retrieved = 2 + rnd.nextInt(5);
            PagePool pool = new PagePool(layout, heads * retrieved + 3);
            InMemoryPageStore store = new InMemoryPageStore(layout, PageFormat.F32);
            int pagesPerHead = 3 * retrieved;
            float[] block = new float[layout.floatsPerPage()];
            for (int h = 0; h < heads; h++) {
                for (int page = 0; page < pagesPerHead; page++) {
                    for (int i = 0; i < block.length; i++) {
                        block[i] = (float) rnd.nextDouble(-1, 1);
                    }
                    store.write(0, h, page, block, 0, 1 + rnd.nextInt(16));
                }
            }
            ResidentSet[] sets = new ResidentSet[heads];
            for (int h = 0; h < heads; h++) {
                sets[h] = new ResidentSet(0, h, retrieved);
            }
            TransferPlan plan = new TransferPlan(pool);
            float[] device = pool.data().clone();
            for (int step = 0; step < 6; step++) {
                plan.clear();
                for (int h = 0; h < heads; h++) {
                    int[] selected = distinct(rnd, pagesPerHead, 1 + rnd.nextInt(retrieved));
                    assertTrue(plan.plan(sets[h], selected, selected.length), "seed=" + seed);
                }
                plan.execute(store);
                int n = plan.fetchCount();
                if (n == 0) {
                    continue;
                }
                StagingLayout staging = new StagingLayout(layout, n + rnd.nextInt(4));
                ByteBuffer pinned = ByteBuffer.allocate((int) staging.totalBytes()).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    assertEquals(plan.stagingOffset(i), staging.blockFloatIndex(i), "seed=" + seed);
                    pinned.putInt((int) staging.slotsByteOffset() + 4 * i, plan.fetchSlot(i));
                }
                pinned.position((int) staging.blocksByteOffset());
                pinned.asFloatBuffer().put(plan.staging(), 0, n * layout.floatsPerPage());
                // the one host-to-device copy carries moveBytes(n): everything the scatter reads
                ByteBuffer copied = ByteBuffer.allocate((int) staging.totalBytes()).order(ByteOrder.LITTLE_ENDIAN);
                copied.put(0, pinned, 0, (int) staging.moveBytes(n));
                KernelEmulator.scatter(staging, copied, n, device);
                assertArrayEquals(pool.data(), device, "seed=" + seed + " step=" + step);
            }
        }
    }

    private static int[] distinct(SplittableRandom rnd, int range, int n) {
        int[] all = new int[range];
        for (int i = 0; i < range; i++) {
            all[i] = i;
        }
        for (int i = 0; i < n; i++) {
            int j = i + rnd.nextInt(range - i);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        return java.util.Arrays.copyOf(all, n);
    }

    @Test
    void shouldLayOutSlotsThenAlignedBlocks() {
        StagingLayout s = new StagingLayout(new PageLayout(16, 128), 100);
        assertEquals(0, s.slotsByteOffset());
        assertEquals(512, s.blocksByteOffset());   // 400 bytes of slots, aligned to 256
        assertEquals(512 + 3L * 16384, s.blockByteOffset(3));
        assertEquals(512 + 7L * 16384, s.moveBytes(7));
        LaunchDims d = ScatterLaunch.dims(7, 4096);
        assertEquals(16, d.gridX());
        assertEquals(7, d.gridY());
    }
}
