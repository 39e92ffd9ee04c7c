package dev.icecache.bench.jmh;

import dev.icecache.bench.speed.SyntheticContext;
import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.tree.DciParams;
import dev.icecache.kvcache.tree.DciTree;
import dev.icecache.kvcache.tree.Projection;
import dev.icecache.model.JavaRuntime;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One GQA group's search (4 query heads, 16 pages) as a decode step runs it: over many trees in
 * turn, as the engine searches every (sparse layer, KV head), so that the trees' int8 keys do not
 * fit the cache and each leaf's rows are read from memory. {@link IndexSearchBenchmark} searches
 * one tree, whose keys stay cached; with one tree here the two agree. At 64k keys a tree's codes
 * are 4 MB: 16 trees are 64 MB, twice this machine's L3.
 *
 * <pre>java --add-modules jdk.incubator.vector -XX:PerMethodTrapLimit=10000 -cp bench.jar org.openjdk.jmh.Main GroupSearchBenchmark</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", JavaRuntime.TRAP_LIMIT_FLAG, "-Xmx4g"})
public class GroupSearchBenchmark {

    private static final int HEAD_DIM = 64;
    private static final int GROUP = 4;
    private static final int PAGES = 16;
    private static final int QUERIES = 64;

    @Param({"65536"})
    public int n;

    @Param({"1", "16"})
    public int trees;

    private DciTree[] tree;
    private float[][] queries;
    private final int[] pages = new int[GROUP * PAGES];
    private final float[] scores = new float[GROUP * PAGES];
    private final int[] counts = new int[GROUP];
    private int next;

    @Setup
    public void setup() {
        CacheShape shape = new CacheShape(trees, GROUP, 1, HEAD_DIM, n + 1);
        SyntheticContext context = new SyntheticContext(shape, 1L);
        float[] keys = new float[n * HEAD_DIM];
        float[] values = new float[n * HEAD_DIM];
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = i;
        }
        tree = new DciTree[trees];
        queries = new float[trees][QUERIES * GROUP * HEAD_DIM];
        float[] q = new float[GROUP * HEAD_DIM];
        for (int t = 0; t < trees; t++) {
            context.rows(t, 0, n, keys, values);
            tree[t] = new DciTree(HEAD_DIM, DciParams.defaults(), new Projection(HEAD_DIM, new SplittableRandom(t + 1)));
            tree[t].add(keys, 0, tokens, 0, n);
            for (int i = 0; i < QUERIES; i++) {
                context.query(t, n + i, q);
                System.arraycopy(q, 0, queries[t], i * GROUP * HEAD_DIM, GROUP * HEAD_DIM);
            }
        }
    }

    /** The next tree's group search, as a decode step moves from one (layer, KV head) to the next. */
    @Benchmark
    public int groupSearch() {
        int i = next++;
        int t = i % trees;
        int query = (i / trees) % QUERIES;
        tree[t].searchGroup(queries[t], query * GROUP * HEAD_DIM, GROUP, PAGES, pages, scores, counts, null);
        return counts[0];
    }
}
