package dev.icecache.kvcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.tree.Projection;
import dev.icecache.kvcache.AllocationWindows;
import dev.icecache.kvcache.FreshJvm;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The per-token attend path (select, plan, move, gather, attend) allocates nothing once warm:
 * counted with the JVM's per-thread allocation counter, which also counts allocations that the
 * JIT could remove, so a varargs check or a boxed value on the path fails this test.
 */
class PagedKvCacheAllocationTest {

    @ParameterizedTest
    @EnumSource(Policy.class)
    void shouldNotAllocateWhenAttending(Policy policy) throws Exception {
        // measured in a JVM of its own (FreshJvm says why)
        long fewest = Long.parseLong(FreshJvm.lastLine(PagedKvCacheAllocationTest.class, policy.name()));
        assertEquals(0, fewest, policy + ": bytes allocated by 400 attends in the quietest of up to 30 windows");
    }

    /** The measuring JVM: {@code policy}; prints the fewest bytes 400 warm attends allocated. */
    public static void main(String[] args) {
        Policy policy = Policy.valueOf(args[0]);
        CacheShape shape = new CacheShape(2, 4, 2, 16, 2048);
        int n = 1500;
        CacheDriver data = new CacheDriver(shape, 8, n);
        PagedKvCache cache = new PagedKvCache(shape, CacheConfig.of(policy, 128).withDenseLayers(1),
                new InMemoryPageStore(PageLayout.of(16), PageFormat.BF16), new Projection(16, new SplittableRandom(1)));
        data.run(cache, 0, n, new int[] {700, 1}, data.newOutputs(n));
        float[] out = new float[shape.qDim()];
        SplittableRandom rnd = new SplittableRandom(2);
        float[][] queries = new float[64][shape.qDim()];
        for (float[] q : queries) {
            for (int i = 0; i < q.length; i++) {
                q[i] = (float) rnd.nextGaussian();
            }
        }
        for (int i = 0; i < 200; i++) { // warm-up: scratch buffers reach their sizes
            cache.attend(1, n - 1, queries[i % 64], 0, out, 0);
            cache.attend(0, n - 1, queries[i % 64], 0, out, 0);
        }
        // a one-off event (a buffer reaching a new size, objects the JIT had scalar-replaced being
        // materialised on deoptimisation, the attention kernel's vectors boxed until the JIT compiles it
        // late on a loaded machine) may land in some windows; an allocation per call lands in all
        System.out.println(AllocationWindows.fewestBytes(() -> {
            for (int i = 0; i < 200; i++) {
                cache.attend(1, n - 1, queries[i % 64], 0, out, 0);
                cache.attend(0, n - 1, queries[i % 64], 0, out, 0);
            }
        }, 30));
    }
}
