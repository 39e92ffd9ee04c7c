package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.icecache.kvcache.AllocationWindows;
import dev.icecache.kvcache.FreshJvm;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A warm tree search allocates nothing: its scratch has grown to size and the ranking kernel's
 * vectors (when the Vector API path runs) are scalar-replaced by the JIT. Counted with the JVM's
 * per-thread allocation counter, which also sees allocations the JIT failed to remove.
 */
class TreeSearchAllocationTest {

    @Test
    void shouldNotAllocateWhenSearchingAWarmTree() throws Exception {
        // measured in a JVM of its own (FreshJvm says why)
        long fewest = Long.parseLong(FreshJvm.lastLine(TreeSearchAllocationTest.class));
        assertEquals(0, fewest, "bytes allocated by 200 searches in the quietest of up to 30 windows (vector kernel: "
                + RankingDot.VECTOR + ")");
    }

    /** The measuring JVM: prints the fewest bytes 200 warm searches allocated. */
    public static void main(String[] args) {
        SplittableRandom rnd = new SplittableRandom(5);
        int n = 20_000;
        int d = 64;
        float[] keys = TreeKeys.clustered(n, d, rnd);
        DciTree tree = new DciTree(d, DciParams.defaults(), new Projection(d, rnd.split()));
        tree.add(keys, 0, TreeKeys.positions(n, 0), 0, n);
        float[] queries = TreeKeys.gaussian(32, d, rnd);
        int[] pages = new int[12];
        float[] scores = new float[12];
        SearchStats stats = new SearchStats();
        for (int i = 0; i < 400; i++) { // warm-up: scratch reaches its size, the JIT compiles the kernel
            tree.search(queries, (i % 32) * d, 12, pages, scores, stats);
        }
        long fewest = AllocationWindows.fewestBytes(() -> {
            for (int i = 0; i < 200; i++) {
                tree.search(queries, (i % 32) * d, 12, pages, scores, stats);
            }
        }, 30);
        System.out.println(fewest);
    }
}
