package dev.icecache.bench.memory;

import dev.icecache.bench.speed.PolicyCaches;
import dev.icecache.bench.speed.SyntheticContext;
import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.kvcache.policy.Policy;

/**
 * One memory measurement, run in its own JVM by {@link MemoryCommand} so that the process RSS
 * belongs to this cache alone: builds one cache of the 1B attention shape, fills it to a context
 * with synthetic rows, and prints one line
 * {@code probe <policy> <context> <poolBytes> <denseBytes> <residentPages> <poolCapacityPages> <liveHeap> <rss>}.
 *
 * <pre>args: policy context budget layers heads kvHeads headDim denseLayers</pre>
 */
public final class MemoryProbe {

    private MemoryProbe() {
    }

    public static void main(String[] args) {
        int status = 2;
        try {
            System.out.println(probe(Policy.valueOf(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]),
                    new CacheShape(Integer.parseInt(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]),
                            Integer.parseInt(args[6]), Integer.parseInt(args[1]) + 1)));
            status = 0;
        } catch (RuntimeException | OutOfMemoryError e) {
            System.err.println("memory probe failed: " + e);
        }
        System.exit(status);
    }

    /** Fills one cache and returns the probe line. */
    static String probe(Policy policy, int context, int budget, CacheShape shape) {
        KvCache cache = PolicyCaches.create(policy, shape, budget, 1L);
        new SyntheticContext(shape, 1L).fill(cache, context, PolicyCaches.attendFromLayer(cache), null);
        long pool;
        long dense;
        long pages;
        long capacity;
        if (cache instanceof PagedKvCache p) {
            pool = p.poolBytes();
            dense = 2L * 4 * p.config().denseLayers() * shape.kvDim() * context;
            pages = p.residentPages();
            capacity = p.poolCapacityPages();
        } else {
            pool = 0;
            dense = 2L * 4 * shape.nLayers() * shape.kvDim() * context;
            pages = 0;
            capacity = 0;
        }
        long live = ProcessMemory.liveHeapBytes();
        long rss = ProcessMemory.rssBytes();
        if (cache.length() != context) { // keeps the cache reachable until both readings are taken
            throw new IllegalStateException("cache holds " + cache.length() + " positions, expected " + context);
        }
        return "probe " + policy + " " + context + " " + pool + " " + dense + " " + pages + " " + capacity + " " + live
                + " " + rss;
    }
}
