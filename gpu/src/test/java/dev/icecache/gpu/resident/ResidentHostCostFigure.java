package dev.icecache.gpu.resident;

import java.util.SplittableRandom;

import dev.icecache.gpu.launch.PageTable;
import dev.icecache.gpu.launch.ResidentSlots;
import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.CacheConfig;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.kvcache.tree.Projection;

/**
 * What a decode step leaves on the host, measured without a GPU: per token on the Llama-3.2-1B
 * attention shape (16 layers, 2 dense, 32 heads, 8 KV heads, head 64, BF16 pages), IceCache with
 * the decoder's settings, the host-attention path (append + selection + moves + attention, every
 * layer) against the device-resident path's host part (append + selection + moves + page table;
 * the device's work is not done: {@link KvDevice} that does nothing). Thread CPU time of this thread.
 *
 * <pre>
 *   java -cp gpu/target/test-classes:gpu/target/classes:$(cat /tmp/gpu-cp.txt) dev.icecache.gpu.resident.ResidentHostCostFigure [context] [budget]
 * </pre>
 */
public final class ResidentHostCostFigure {

    private ResidentHostCostFigure() {
    }

    /** A device that does nothing: the host part alone. */
    private static final class NoDevice implements KvDevice {
        @Override
        public void writeRows(int t, int[] slots, int row) {
        }

        @Override
        public void copyRows(int[] pairs, int n) {
        }

        @Override
        public void loadPages(int[] slots, float[] blocks, int n) {
        }

        @Override
        public void attend(PageTable table, int p0, int n) {
        }

        @Override
        public void attendStatic(int id, PageTable table, int p0, int n) {
        }

        @Override
        public long hostToDeviceBytes() {
            return 0;
        }

        @Override
        public void close() {
        }
    }

    public static void main(String[] args) {
        int context = args.length > 0 ? Integer.parseInt(args[0]) : 8192;
        int budget = args.length > 1 ? Integer.parseInt(args[1]) : 2048;
        int steps = 32;
        CacheShape shape = new CacheShape(16, 32, 8, 64, context + steps + 1);
        CacheConfig config = CacheConfig.of(Policy.ICECACHE, budget).withTreeParams(DciParams.bestKeyDefaults());
        var bean = java.lang.management.ManagementFactory.getThreadMXBean();
        double[] ms = new double[2];
        for (int path = 0; path < 2; path++) {
            PagedKvCache cache = new PagedKvCache(shape, config, new InMemoryPageStore(PageLayout.of(64),
                    config.pageFormat()), new Projection(64, new SplittableRandom(5)));
            ResidentSlots slots = ResidentSlots.of(PageLayout.of(64), cache.poolCapacityPages(), 16,
                    config.denseLayers(), 8, 256, shape.maxTokens());
            ResidentAttention ra = new ResidentAttention(cache, slots, s -> new NoDevice());
            SplittableRandom rnd = new SplittableRandom(9);
            float[] q = random(rnd, 256 * shape.qDim());
            float[] k = random(rnd, 256 * shape.kvDim());
            float[] v = random(rnd, 256 * shape.kvDim());
            for (int p = 0; p < context; p += 256) {
                for (int l = 0; l < 16; l++) {
                    ra.fillLayer(l, p, Math.min(256, context - p), q, k, v);
                }
            }
            if (path == 0) {
                ra.close();   // detached: the cache attends on the host
            }
            float[] out = new float[shape.qDim()];
            long t0 = bean.getCurrentThreadCpuTime();
            for (int s = 0; s < steps; s++) {
                int p = context + s;
                int at = s * shape.kvDim();
                for (int l = 0; l < 16; l++) {
                    if (path == 0) {
                        cache.append(l, p, k, at, v, at);
                        cache.attend(l, p, q, s * shape.qDim(), out, 0);
                    } else {
                        ra.attendLayer(l, p, 1, q, s * shape.qDim(), k, at, v, at);
                    }
                }
            }
            ms[path] = (bean.getCurrentThreadCpuTime() - t0) / 1e6 / steps;
        }
        System.out.printf("host CPU ms per token, 1B attention shape, IceCache(%d), context %d: host attention %.2f, "
                + "device-resident host part %.2f (%.0f%% of it stays on the host)%n", budget, context, ms[0], ms[1],
                100 * ms[1] / ms[0]);
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
        return a;
    }
}
