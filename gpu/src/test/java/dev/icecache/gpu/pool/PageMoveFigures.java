package dev.icecache.gpu.pool;

import java.util.SplittableRandom;


import dev.icecache.gpu.cuda.CudaContext;
import dev.icecache.gpu.cuda.DeviceBuffer;
import dev.icecache.gpu.cuda.Kernel;
import dev.icecache.gpu.cuda.PinnedBuffer;
import dev.icecache.gpu.launch.AttentionLaunch;
import dev.icecache.gpu.launch.PageTable;
import dev.icecache.gpu.launch.ResidentSlots;
import dev.icecache.gpu.launch.StagingLayout;
import dev.icecache.gpu.resident.CudaKvDevice;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PagePool;
import dev.icecache.kvcache.transfer.ResidentSet;
import dev.icecache.kvcache.transfer.TransferPlan;
import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

/**
 * Page-move bandwidth and the per-token cost of attention + page moves at long contexts, Full vs
 * IceCache, on the attention shape of Llama-3.2-1B (16 layers, 32 heads, 8 KV heads, head 64).
 * The IceCache figure counts the device work only (attention over 16 pages and the move of the
 * 12 retrieved pages of every (layer, KV head), the worst case of no resident hits); the CPU
 * index search is measured by the CPU benchmarks. Figures for BENCHMARKS.md that {@code gpu/check.sh}
 * prints ({@link dev.icecache.gpu.GpuCheck}); not tests, they assert nothing.
 */
public final class PageMoveFigures {

    private PageMoveFigures() {
    }

    static final PageLayout LAYOUT = new PageLayout(16, 64);
    static final int LAYERS = 16;
    static final int HEADS = 32;
    static final int KV_HEADS = 8;

    /** One line: host-to-device page-move bandwidth against the raw pinned copy. */
    public static String hostToDeviceBandwidth(int device) {
        try (CudaContext cuda = new CudaContext(device)) {
            int pages = 4096;   // 32 MiB of 8 KiB blocks
            PagePool slots = new PagePool(LAYOUT, pages);
            InMemoryPageStore store = new InMemoryPageStore(LAYOUT, PageFormat.F32);
            SplittableRandom rnd = new SplittableRandom(1);
            float[] block = GpuKernelTest.random(rnd, LAYOUT.floatsPerPage());
            ResidentSet[] sets = new ResidentSet[KV_HEADS];
            int perHead = pages / KV_HEADS;
            int[][] selected = new int[KV_HEADS][perHead];
            for (int h = 0; h < KV_HEADS; h++) {
                sets[h] = new ResidentSet(0, h, perHead);
                for (int p = 0; p < perHead; p++) {
                    store.write(0, h, p, block, 0, 16);
                    selected[h][p] = p;
                }
            }
            TransferPlan plan = new TransferPlan(slots, pages);
            plan.clear();
            for (int h = 0; h < KV_HEADS; h++) {
                plan.plan(sets[h], selected[h], perHead);
            }
            plan.execute(store);
            int[] dest = new int[pages];
            for (int i = 0; i < pages; i++) {
                dest[i] = plan.fetchSlot(i);
            }
            ResidentSlots region = new ResidentSlots(LAYOUT, pages, 1, 0, 1, 1, 1);
            try (DeviceBuffer memory = DeviceBuffer.ofFloats((long) region.totalSlots() * LAYOUT.floatsPerPage());
                 CudaKvDevice mover = new CudaKvDevice(cuda, region, PageFormat.F32, memory.pointer(), () -> { },
                         HEADS * 64, KV_HEADS * 64)) {
                long bytes = new StagingLayout(LAYOUT, pages, PageFormat.F32).totalBytes();
                double best = Double.MAX_VALUE;
                for (int rep = 0; rep < 5; rep++) {
                    long t0 = System.nanoTime();
                    mover.loadPages(dest, plan.staging(), pages);
                    cuda.synchronize();
                    best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                }
                double raw = rawCopySeconds(cuda, bytes);
                return String.format(
                        "HtoD page moves: %d pages (%.0f MiB) in %.2f ms = %.1f GB/s (staging put + copy + scatter); "
                                + "raw pinned cuMemcpyHtoD %.1f GB/s", pages, bytes / 1048576.0, best * 1e3,
                        bytes / best / 1e9, bytes / raw / 1e9);
            }
        }
    }

    private static double rawCopySeconds(CudaContext cuda, long bytes) {
        try (PinnedBuffer host = new PinnedBuffer(bytes); DeviceBuffer dev = new DeviceBuffer(bytes)) {
            CUevent a = cuda.newEvent();
            CUevent b = cuda.newEvent();
            double best = Double.MAX_VALUE;
            for (int rep = 0; rep < 5; rep++) {
                JCudaDriver.cuEventRecord(a, null);
                dev.uploadBytes(host.pointer(), bytes, 0);
                JCudaDriver.cuEventRecord(b, null);
                best = Math.min(best, cuda.elapsedMillis(a, b) / 1e3);
            }
            cuda.destroy(a);
            cuda.destroy(b);
            return best;
        }
    }

    /** One line: per-token attention (+ page move) latency at 16k and 64k, Full vs IceCache. */
    public static String perTokenAttentionLatency(int device) {
        try (CudaContext cuda = new CudaContext(device)) {
            StringBuilder line = new StringBuilder("per-token attention+moves, 1B attention shape, device only:");
            for (int context : new int[] {16_384, 65_536}) {
                double full = attentionMillis(cuda, context / LAYOUT.rowsPerPage(), 0);
                double ice = attentionMillis(cuda, 16, 12);
                line.append(String.format(" %dk Full %.2f ms, IceCache(256) %.2f ms;", context / 1024, full, ice));
            }
            return line.toString();
        }
    }

    /** Milliseconds per token: every layer attends over {@code pages} pages per KV head after moving {@code moved}. */
    private static double attentionMillis(CudaContext cuda, int pages, int moved) {
        AttentionLaunch launch = new AttentionLaunch(HEADS, KV_HEADS, LAYOUT, pages);
        PageTable table = new PageTable(launch);
        for (int h = 0; h < KV_HEADS; h++) {
            for (int e = 0; e < pages; e++) {
                table.add(h, h * pages + e, 16);
            }
        }
        int slotsPerLayer = KV_HEADS * pages;
        SplittableRandom rnd = new SplittableRandom(3);
        int[] ints = table.ints();
        long movedBytes = (long) KV_HEADS * moved * LAYOUT.floatsPerPage() * Float.BYTES;
        try (DeviceBuffer pool = DeviceBuffer.ofFloats((long) slotsPerLayer * LAYOUT.floatsPerPage());
             DeviceBuffer dt = new DeviceBuffer(4L * ints.length);
             DeviceBuffer q = DeviceBuffer.ofFloats(HEADS * 64L); DeviceBuffer out = DeviceBuffer.ofFloats(HEADS * 64L);
             DeviceBuffer att = DeviceBuffer.ofFloats(launch.scratchFloats());
             PinnedBuffer staging = new PinnedBuffer(Math.max(1, movedBytes))) {
            float[] qh = GpuKernelTest.random(rnd, HEADS * 64);
            q.upload(qh, 0, qh.length, 0);
            dt.upload(ints, 0, ints.length, 0);
            Pointer params = Pointer.to(Pointer.to(pool.pointer()), Pointer.to(dt.pointer()),
                    Pointer.to(dt.pointer().withByteOffset(4L * table.rowsBase())),
                    Pointer.to(dt.pointer().withByteOffset(4L * table.countBase())), Pointer.to(q.pointer()),
                    Pointer.to(out.pointer()), Pointer.to(att.pointer()), Pointer.to(new int[] {launch.group()}),
                    Pointer.to(new int[] {64}), Pointer.to(new int[] {16}), Pointer.to(new int[] {pages}),
                    Pointer.to(new float[] {launch.scale()}));
            CUevent a = cuda.newEvent();
            CUevent b = cuda.newEvent();
            double best = Double.MAX_VALUE;
            for (int rep = 0; rep < 5; rep++) {
                JCudaDriver.cuEventRecord(a, null);
                for (int layer = 0; layer < LAYERS; layer++) {
                    if (moved > 0) {
                        pool.uploadBytes(staging.pointer(), movedBytes, 0);
                    }
                    cuda.launch(Kernel.PAGED_ATTENTION, launch.dims(), null, params);
                }
                JCudaDriver.cuEventRecord(b, null);
                best = Math.min(best, cuda.elapsedMillis(a, b));
            }
            cuda.destroy(a);
            cuda.destroy(b);
            return best;
        }
    }
}
