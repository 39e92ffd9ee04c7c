package dev.icecache.gpu.resident;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.icecache.gpu.launch.ResidentSlots;
import dev.icecache.gpu.pool.SharedDeviceRegion;
import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.CacheSnapshot;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.tree.Projection;

/**
 * The device-resident decode path (seam + page tables + emulated kernels over their launch grids)
 * gives the host cache's own {@link PagedKvCache#attendBlock} results: two caches fed the same
 * rows and queries, one attending on the host, one mirrored onto an emulated device region that
 * attends over the per-step page table. Prefill blocks and decode steps, window evictions, page
 * moves, dense layers; F32 and BF16 pools.
 */
class ResidentAttentionTest {

    private static final CacheShape SHAPE = ResidentTwin.SHAPE;
    private static final int MAX_BATCH = ResidentTwin.MAX_BATCH;

    /** A twin over an emulated device. */
    private record Twin(PagedKvCache reference, PagedKvCache mirrored, ResidentAttention resident,
                        EmulatedKvDevice device, ResidentTwin driver) {
    }

    private static PagedKvCache cache(CacheConfig config) {
        return ResidentTwin.cache(config);
    }

    private static Twin twin(CacheConfig config) {
        EmulatedKvDevice[] device = new EmulatedKvDevice[1];
        ResidentTwin driver = new ResidentTwin(config,
                s -> device[0] = new EmulatedKvDevice(s, config.pageFormat(), SHAPE.qDim(), MAX_BATCH),
                new ResidentTwin.Io() {
                    @Override
                    public void load(float[] q, float[] k, float[] v, int n) {
                        device[0].q = q;
                        device[0].k = k;
                        device[0].v = v;
                    }

                    @Override
                    public float[] output(int n) {
                        return device[0].out;
                    }
                });
        return new Twin(driver.reference, driver.mirrored, driver.resident, device[0], driver);
    }

    private static float run(Twin tw, int positions, long seed) {
        return tw.driver().run(positions, seed, 1e-4f);
    }

    private static float[] random(SplittableRandom rnd, int n) {
        return ResidentTwin.random(rnd, n);
    }

    @ParameterizedTest
    @CsvSource({"ICECACHE, F32", "ICECACHE, BF16", "ICECACHE_REUSE, BF16", "QUEST, F32", "STREAMING, BF16",
            "FULL, F32", "FULL, BF16"})
    void shouldAttendAsTheHostCacheWithThePoolOnTheDevice(Policy policy, PageFormat format) {
        CacheConfig config = CacheConfig.of(policy, 64).withDenseLayers(1).withPageFormat(format);
        Twin tw = twin(config);
        run(tw, 700, 11);
        if (policy != Policy.FULL && policy != Policy.STREAMING) {
            assertTrue(tw.device.pagesScattered > 0, "the budget never made the device fetch a page");
        }
        // the device saw page moves and row copies, not only writes
        assertTrue(tw.device.h2d > 0, "nothing crossed to the device");
        assertEquals(tw.reference.length(), tw.mirrored.length());
    }

    @Test
    void shouldListRetrievedPagesAndMoveThemWhenTheBudgetBinds() {
        CacheConfig config = CacheConfig.of(Policy.ICECACHE, 64).withDenseLayers(1).withPageFormat(PageFormat.BF16);
        Twin tw = twin(config);
        run(tw, 600, 5);
        int retrieved = 0;
        int positional = 0;
        var table = tw.resident.lastTable();
        for (int h = 0; h < SHAPE.nKvHeads(); h++) {
            for (int e = 0; e < table.count(h); e++) {
                if (table.first(h, e) < 0) {
                    retrieved++;
                } else {
                    positional++;
                }
            }
        }
        assertTrue(retrieved > 0, "no retrieved page listed at 600 positions under a 64-token budget");
        assertTrue(positional > 0, "no sink/window/chunk page listed");
        // the device region holds what the host pool holds, slot for slot, for every slot the host filled
        assertTrue(tw.device.launches > 0);
    }

    @Test
    void shouldGiveTheSharedRegionBackWhenADocumentsCacheCloses() {
        CacheConfig config = CacheConfig.of(Policy.ICECACHE, 64).withDenseLayers(1);
        ResidentSlots probe = ResidentSlots.of(PageLayout.of(SHAPE.headDim()), cache(config).poolCapacityPages(),
                SHAPE.nLayers(), 1, SHAPE.nKvHeads(), MAX_BATCH, SHAPE.maxTokens());
        long perDocument = probe.bytes(config.pageFormat());
        int[] frees = {0};
        SharedDeviceRegion region = new SharedDeviceRegion(3 * perDocument + 1024, perDocument + 1024,
                bytes -> new SharedDeviceRegion.Memory() {
                    @Override
                    public long address() {
                        return 0;
                    }

                    @Override
                    public void close() {
                        frees[0]++;
                    }
                });
        PagedKvCache[] docs = new PagedKvCache[3];
        EmulatedKvDevice[] devices = new EmulatedKvDevice[3];
        for (int i = 0; i < 3; i++) {
            docs[i] = cache(config);
            int d = i;
            new ResidentAttention(docs[i], probe, s -> {
                SharedDeviceRegion.Lease lease = region.lease("doc-" + d, s.bytes(config.pageFormat()));
                devices[d] = new EmulatedKvDevice(s, config.pageFormat(), SHAPE.qDim(), MAX_BATCH);
                devices[d].release = lease::close;
                return devices[d];
            });
        }
        assertEquals(3, region.leases());
        assertThrows(IllegalStateException.class, () -> region.lease("doc-4", perDocument));
        docs[1].close();   // the decoder unloads document 1
        assertTrue(devices[1].closed);
        assertEquals(2, region.leases());
        assertEquals(2 * ((perDocument + 255) / 256 * 256), region.usedBytes());
        region.lease("doc-4", perDocument);   // its room serves the next document
        assertEquals(0, frees[0]);
    }

    @Test
    void shouldDecodeAsTheHostAfterAFillWithoutDeviceAttention() {
        CacheConfig config = CacheConfig.of(Policy.ICECACHE, 64).withDenseLayers(1);
        Twin tw = twin(config);
        SplittableRandom rnd = new SplittableRandom(4);
        float[] ignored = new float[MAX_BATCH * SHAPE.qDim()];
        for (int p = 0; p < 320; p += MAX_BATCH) {
            for (int l = 0; l < SHAPE.nLayers(); l++) {
                float[] q = random(rnd, MAX_BATCH * SHAPE.qDim());
                float[] k = random(rnd, MAX_BATCH * SHAPE.kvDim());
                float[] v = random(rnd, MAX_BATCH * SHAPE.kvDim());
                for (int t = 0; t < MAX_BATCH; t++) {
                    tw.reference.append(l, p + t, k, t * SHAPE.kvDim(), v, t * SHAPE.kvDim());
                }
                tw.reference.attendBlock(l, p, MAX_BATCH, q, 0, ignored, 0);
                tw.device.k = k;
                tw.device.v = v;
                tw.resident.fillLayer(l, p, MAX_BATCH, q, k, v);
            }
        }
        float[] expected = new float[SHAPE.qDim()];
        for (int p = 320; p < 360; p++) {
            for (int l = 0; l < SHAPE.nLayers(); l++) {
                float[] q = random(rnd, SHAPE.qDim());
                float[] k = random(rnd, SHAPE.kvDim());
                float[] v = random(rnd, SHAPE.kvDim());
                tw.reference.append(l, p, k, 0, v, 0);
                tw.reference.attend(l, p, q, 0, expected, 0);
                tw.device.q = q;
                tw.device.k = k;
                tw.device.v = v;
                tw.resident.attendLayer(l, p, 1, q, k, v);
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], tw.device.out[i], 1e-4f, "layer=" + l + " position=" + p + " float " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"ICECACHE, BF16", "ICECACHE, F32", "FULL, BF16"})
    void shouldAttachToARestoredCacheAndAttendAsTheHost(Policy policy, PageFormat format) {
        CacheConfig config = CacheConfig.of(policy, 64).withDenseLayers(1).withPageFormat(format);
        PagedKvCache reference = cache(config);
        InMemoryPageStore store = new InMemoryPageStore(PageLayout.of(SHAPE.headDim()), format);
        Projection projection = new Projection(SHAPE.headDim(), new SplittableRandom(2));
        PagedKvCache before = new PagedKvCache(SHAPE, config, store, projection);
        SplittableRandom rnd = new SplittableRandom(8);
        float[] out = new float[MAX_BATCH * SHAPE.qDim()];
        for (int p = 0; p < 300; p += 30) {
            for (int l = 0; l < SHAPE.nLayers(); l++) {
                float[] q = random(rnd, 30 * SHAPE.qDim());
                float[] k = random(rnd, 30 * SHAPE.kvDim());
                float[] v = random(rnd, 30 * SHAPE.kvDim());
                for (PagedKvCache c : new PagedKvCache[] {reference, before}) {
                    for (int t = 0; t < 30; t++) {
                        c.append(l, p + t, k, t * SHAPE.kvDim(), v, t * SHAPE.kvDim());
                    }
                    c.attendBlock(l, p, 30, q, 0, out, 0);
                }
            }
        }
        CacheSnapshot snap = before.snapshot();
        reference.snapshot();   // same commits on both sides
        Map<String, byte[]> cells = new HashMap<>();
        for (int i = 0; i < snap.cellCount(); i++) {
            cells.put(snap.cellLayer()[i] + "/" + snap.cellHead()[i] + "/" + snap.cellId()[i], snap.cellBytes()[i]);
        }
        PagedKvCache restored = PagedKvCache.restore(SHAPE, config, store, projection, snap.header(),
                (l, h, c) -> cells.get(l + "/" + h + "/" + c));
        EmulatedKvDevice[] device = new EmulatedKvDevice[1];
        ResidentAttention resident = new ResidentAttention(restored, ResidentTwin.slots(restored, config),
                s -> device[0] = new EmulatedKvDevice(s, format, SHAPE.qDim(), MAX_BATCH));
        assertTrue(device[0].pagesScattered > 0, "the restored pages did not go up");
        float[] expected = new float[MAX_BATCH * SHAPE.qDim()];
        for (int p = 300; p < 420; ) {
            int n = p < 340 ? 1 : 20;
            for (int l = 0; l < SHAPE.nLayers(); l++) {
                float[] q = random(rnd, n * SHAPE.qDim());
                float[] k = random(rnd, n * SHAPE.kvDim());
                float[] v = random(rnd, n * SHAPE.kvDim());
                for (int t = 0; t < n; t++) {
                    reference.append(l, p + t, k, t * SHAPE.kvDim(), v, t * SHAPE.kvDim());
                }
                reference.attendBlock(l, p, n, q, 0, expected, 0);
                device[0].q = q;
                device[0].k = k;
                device[0].v = v;
                resident.attendLayer(l, p, n, q, k, v);
                for (int i = 0; i < n * SHAPE.qDim(); i++) {
                    assertEquals(expected[i], device[0].out[i], 1e-4f, policy + " layer=" + l + " positions " + p
                            + ".." + (p + n - 1) + " float " + i);
                }
            }
            p += n;
        }
    }

    @Test
    void shouldRefuseToAttachInTheMiddleOfAChunk() {
        CacheConfig config = CacheConfig.of(Policy.ICECACHE, 64).withDenseLayers(1);
        PagedKvCache c = cache(config);
        float[] row = new float[SHAPE.kvDim()];
        for (int l = 0; l < SHAPE.nLayers(); l++) {
            c.append(l, 0, row, 0, row, 0);
        }
        EmulatedKvDevice[] device = new EmulatedKvDevice[1];
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new ResidentAttention(c,
                ResidentTwin.slots(c, config), s -> device[0] = new EmulatedKvDevice(s, PageFormat.BF16, SHAPE.qDim(),
                MAX_BATCH)));
        assertTrue(e.getMessage().contains("element boundary"), e.getMessage());
        assertTrue(device[0].closed, "the device region of a refused attach was not given back");
    }

    @Test
    void shouldFreeTheRegionAndDetachOnClose() {
        Twin tw = twin(CacheConfig.of(Policy.ICECACHE, 64).withDenseLayers(1));
        run(tw, 50, 3);
        tw.resident.close();
        assertTrue(tw.device.closed);
        // detached: the cache keeps working on the host alone
        float[] q = new float[SHAPE.qDim()];
        float[] out = new float[SHAPE.qDim()];
        float[] row = new float[SHAPE.kvDim()];
        for (int l = 0; l < SHAPE.nLayers(); l++) {
            tw.mirrored.append(l, 50, row, 0, row, 0);
            tw.mirrored.attend(l, 50, q, 0, out, 0);
        }
        assertThrows(IllegalStateException.class, () -> tw.resident.attendLayer(0, 51, 1, q, row, row));
    }
}
