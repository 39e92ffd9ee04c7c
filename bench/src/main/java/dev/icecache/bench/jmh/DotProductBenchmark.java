package dev.icecache.bench.jmh;

import dev.icecache.kvcache.HeadAttention;
import dev.icecache.kvcache.tree.RankingDot;
import dev.icecache.model.JavaRuntime;
import dev.icecache.model.tensor.FixedLaneDot;
import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.GgmlType;
import dev.icecache.model.tensor.Quantizer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
 * The dot products under decode: a weight row against an activation (F32 and Q8_0, Vector API),
 * and attention's q.k over one head row (scalar, in row order, as {@link HeadAttention} must
 * stay for bit-identical policies) and the index's ranking q.k (scalar, eight partial sums,
 * {@link RankingDot}). {@code n} = 64 is a head row, 2048 a row of the 1B's weights.
 *
 * <pre>java --add-modules jdk.incubator.vector -XX:PerMethodTrapLimit=10000 -cp bench.jar org.openjdk.jmh.Main DotProductBenchmark</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", JavaRuntime.TRAP_LIMIT_FLAG})
public class DotProductBenchmark {

    @Param({"64", "2048"})
    public int n;

    private float[] a;
    private float[] x;
    private FloatTensor q8;
    private FloatTensor f32;

    @Setup
    public void setup() {
        SplittableRandom r = new SplittableRandom(1);
        a = new float[n];
        x = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextDouble(-1, 1);
            x[i] = (float) r.nextDouble(-1, 1);
        }
        q8 = tensor(GgmlType.Q8_0, a);
        f32 = tensor(GgmlType.F32, a);
    }

    private static FloatTensor tensor(GgmlType type, float[] values) {
        ByteBuffer buf = ByteBuffer.allocateDirect((int) type.byteSizeFor(values.length)).order(ByteOrder.LITTLE_ENDIAN);
        Quantizer.encode(type, values, values.length, buf);
        buf.flip();
        return FloatTensor.of("bench", type, buf, values.length);
    }

    /** Heap F32 against heap F32 in the fixed sixteen-lane order (batched products on decoded rows). */
    @Benchmark
    public float heapF32Vector() {
        return FixedLaneDot.dot(a, 0, x, 0, n);
    }

    /** Attention's scalar q.k, accumulated in order. */
    @Benchmark
    public float attentionScalar() {
        return HeadAttention.dot(a, 0, x, 0, n);
    }

    /** The DCI-tree search's ranking q.k: eight independent partial sums in a fixed order. */
    /** Attention's q.k before issue 13: one left-to-right chain of dependent adds (the baseline of its 8-lane order). */
    @Benchmark
    public float attentionInOrderBefore() {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += a[i] * x[i];
        }
        return s;
    }

    @Benchmark
    public float indexRanking() {
        return RankingDot.dot(a, 0, x, 0, n);
    }

    /** A mapped F32 weight row against an activation. */
    @Benchmark
    public float mappedF32() {
        return f32.dot(0, x, 0, n);
    }

    /** A mapped Q8_0 weight row against an activation. */
    @Benchmark
    public float mappedQ8_0() {
        return q8.dot(0, x, 0, n);
    }
}
