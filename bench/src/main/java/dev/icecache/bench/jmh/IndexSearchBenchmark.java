package dev.icecache.bench.jmh;

import dev.icecache.bench.speed.SyntheticContext;
import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.select.QuestSelector;
import dev.icecache.kvcache.select.SelectorSpec;
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
 * Page selection for one query over n clustered keys of one (layer, KV head): the DCI-tree search
 * of IceCache against Quest's scan of every page digest. 12 pages (a 256-token budget).
 *
 * <pre>java --add-modules jdk.incubator.vector -XX:PerMethodTrapLimit=10000 -cp bench.jar org.openjdk.jmh.Main IndexSearchBenchmark</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", JavaRuntime.TRAP_LIMIT_FLAG})
public class IndexSearchBenchmark {

    private static final int HEAD_DIM = 64;
    private static final int PAGES = 12;
    private static final int QUERIES = 64;

    @Param({"4096", "65536"})
    public int n;

    private DciTree tree;
    private QuestSelector quest;
    private float[] queries;
    private static final int GROUP = 4;
    private final int[] outPages = new int[PAGES];
    private final int[] groupPages = new int[GROUP * PAGES];
    private final float[] groupScores = new float[GROUP * PAGES];
    private final int[] groupCounts = new int[GROUP];
    private final float[] outScores = new float[PAGES];
    private int next;

    @Setup
    public void setup() {
        CacheShape shape = new CacheShape(1, 1, 1, HEAD_DIM, n + 1);
        SyntheticContext context = new SyntheticContext(shape, 1L);
        float[] keys = new float[n * HEAD_DIM];
        context.rows(0, 0, n, keys, new float[n * HEAD_DIM]);
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = i;
        }
        tree = new DciTree(HEAD_DIM, DciParams.defaults(), new Projection(HEAD_DIM, new SplittableRandom(1)));
        tree.add(keys, 0, tokens, 0, n);
        quest = new QuestSelector(new SelectorSpec(shape, 0, 0, 16, DciParams.defaults(), null, 0));
        quest.add(0, 0, keys, 0, tokens, 0, n);
        queries = new float[QUERIES * HEAD_DIM];
        float[] q = new float[HEAD_DIM];
        for (int i = 0; i < QUERIES; i++) {
            context.query(0, i, q);
            System.arraycopy(q, 0, queries, i * HEAD_DIM, HEAD_DIM);
        }
    }

    /** IceCache: one DCI-tree search. */
    @Benchmark
    public int dciTreeSearch() {
        int i = next++ % QUERIES;
        return tree.search(queries, i * HEAD_DIM, PAGES, outPages, outScores, null);
    }

    /** The query heads of one GQA group (4, as Llama-3.2-1B) searched one by one: each re-reads the keys. */
    @Benchmark
    public int dciTreeSearchGroupHeadByHead() {
        int i = (next++ % (QUERIES / GROUP)) * GROUP;
        int pages = 0;
        for (int h = 0; h < GROUP; h++) {
            pages += tree.search(queries, (i + h) * HEAD_DIM, PAGES, outPages, outScores, null);
        }
        return pages;
    }

    /** The same 4 query heads in one pass ({@code DciTree.searchGroup}): the same pages, keys read once. */
    @Benchmark
    public int dciTreeSearchGroupOnePass() {
        int i = (next++ % (QUERIES / GROUP)) * GROUP;
        tree.searchGroup(queries, i * HEAD_DIM, GROUP, PAGES, groupPages, groupScores, groupCounts, null);
        return groupCounts[0];
    }

    /** Quest: score every page's min/max digest, keep the best. */
    @Benchmark
    public int questDigestScan() {
        int i = next++ % QUERIES;
        return quest.select(0, 0, n, queries, i * HEAD_DIM, 1, PAGES, outPages);
    }
}
