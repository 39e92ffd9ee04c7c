package dev.icecache.gpu.resident;

import java.util.SplittableRandom;

import dev.icecache.gpu.cuda.CudaContext;
import dev.icecache.gpu.cuda.DeviceBuffer;
import dev.icecache.gpu.launch.ResidentSlots;
import dev.icecache.gpu.pool.CudaRegionMemory;
import dev.icecache.gpu.pool.SharedDeviceRegion;
import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.metrics.CacheMetrics;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.kvcache.tree.Projection;

/**
 * The attention part of a device-resident decode step on the Llama-3.2-1B attention shape (16
 * layers, 2 dense, 32 heads, 8 KV heads, head 64, BF16 pages): per token, for every layer, the
 * host's append + page selection + moves and the device's row writes, copies, scatter and paged
 * attention, at a given context, IceCache (the decoder's settings, 2048-token budget) against Full
 * (every page, through the same path). Rows are random (the model's matrix products are not part
 * of it: the decode figure measures those). Figures for BENCHMARKS.md that {@code gpu/check.sh}
 * prints; not tests, they assert nothing.
 */
public final class ResidentStepFigures {

    private ResidentStepFigures() {
    }

    static final int LAYERS = 16;
    static final int HEADS = 32;
    static final int KV_HEADS = 8;
    static final int HEAD_DIM = 64;
    static final int BATCH = 256;
    static final int STEPS = 16;
    static final int BUDGET = 2048;

    /** One line per context: ms per token IceCache vs Full, and the host selection's share of IceCache's step. */
    public static String decodeStep(int device, int... contexts) {
        StringBuilder line = new StringBuilder("resident decode step (attention part), 1B attention shape, BF16:");
        try (CudaContext cuda = new CudaContext(device)) {
            for (int context : contexts) {
                double[] ice = stepMillis(cuda, Policy.ICECACHE, context);
                double[] full = stepMillis(cuda, Policy.FULL, context);
                line.append(String.format(" %dk: IceCache(%d) %.2f ms/token (host selection %.0f%%, %.0f KiB up, "
                        + "%.0f KiB down), Full %.2f ms/token (x%.1f);", context / 1024, BUDGET, ice[0], 100 * ice[1],
                        ice[2] / 1024, ice[3] / 1024, full[0], full[0] / ice[0]));
            }
        }
        return line.toString();
    }

    /** {ms per token, share of it in host selection + moves, bytes up per token, bytes down per token}. */
    static double[] stepMillis(CudaContext cuda, Policy policy, int context) {
        CacheShape shape = new CacheShape(LAYERS, HEADS, KV_HEADS, HEAD_DIM, context + STEPS + 1);
        CacheConfig config = CacheConfig.of(policy, BUDGET).withTreeParams(DciParams.bestKeyDefaults());
        PagedKvCache cache = new PagedKvCache(shape, config, new InMemoryPageStore(PageLayout.of(HEAD_DIM),
                config.pageFormat()), new Projection(HEAD_DIM, new SplittableRandom(5)));
        ResidentSlots slots = ResidentSlots.of(PageLayout.of(HEAD_DIM), cache.poolCapacityPages(), LAYERS,
                config.denseLayers(), KV_HEADS, BATCH, shape.maxTokens());
        long bytes = slots.bytes(config.pageFormat());
        int qDim = shape.qDim();
        int kvDim = shape.kvDim();
        try (SharedDeviceRegion region = new SharedDeviceRegion(bytes, bytes, n -> new CudaRegionMemory(cuda, n));
             DeviceBuffer q = DeviceBuffer.ofFloats((long) BATCH * qDim);
             DeviceBuffer k = DeviceBuffer.ofFloats((long) BATCH * kvDim);
             DeviceBuffer v = DeviceBuffer.ofFloats((long) BATCH * kvDim);
             DeviceBuffer out = DeviceBuffer.ofFloats((long) BATCH * qDim)) {
            SharedDeviceRegion.Lease lease = region.lease("figure", bytes);
            CudaKvDevice[] dev = new CudaKvDevice[1];
            ResidentAttention ra = new ResidentAttention(cache, slots, s -> dev[0] = new CudaKvDevice(cuda, s,
                    config.pageFormat(), ((CudaRegionMemory) region.memory()).pointer(lease.offset()), lease::close,
                    qDim, kvDim));
            dev[0].bind(q.pointer(), k.pointer(), v.pointer(), out.pointer());
            SplittableRandom rnd = new SplittableRandom(9);
            float[] hq = random(rnd, BATCH * qDim);
            float[] hk = random(rnd, BATCH * kvDim);
            float[] hv = random(rnd, BATCH * kvDim);
            q.upload(hq, 0, hq.length, 0);
            k.upload(hk, 0, hk.length, 0);
            v.upload(hv, 0, hv.length, 0);
            for (int p = 0; p < context; p += BATCH) {
                int n = Math.min(BATCH, context - p);
                for (int l = 0; l < LAYERS; l++) {
                    ra.fillLayer(l, p, n, hq, hk, hv);   // the context's rows, selections and moves; no attention
                }
            }
            cuda.synchronize();
            CacheMetrics m = cache.metrics();
            long select0 = m.indexNanos + m.moveNanos;
            long up0 = dev[0].hostToDeviceBytes();
            long t0 = System.nanoTime();
            for (int s = 0; s < STEPS; s++) {
                int p = context + s;
                for (int l = 0; l < LAYERS; l++) {
                    ra.attendLayer(l, p, 1, hq, 0, hk, s % BATCH * kvDim, hv, s % BATCH * kvDim);
                }
                cuda.synchronize();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            double select = (m.indexNanos + m.moveNanos - select0) / 1e9;
            double up = (dev[0].hostToDeviceBytes() - up0) / (double) STEPS;
            // down: a sparse layer's q|k|v, a dense layer's k|v (GpuTransformer's one copy per layer)
            double down = 4.0 * ((LAYERS - config.denseLayers()) * (qDim + 2 * kvDim) + config.denseLayers() * 2 * kvDim);
            ra.close();
            return new double[] {seconds * 1e3 / STEPS, select / seconds, up, down};
        }
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
        return a;
    }
}
