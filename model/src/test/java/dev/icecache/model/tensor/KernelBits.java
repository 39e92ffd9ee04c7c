package dev.icecache.model.tensor;

import dev.icecache.model.compute.ComputePool;
import dev.icecache.model.compute.MatMul;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * Prints the bits of every dense kernel's results on fixed random operands, one line per
 * kernel, for {@link VectorWidthBitsTest}: run once per vector width
 * ({@code -Dicecache.vectorBitSize}), the lines must be identical. The first line names the
 * width the kernels really ran at.
 */
public final class KernelBits {

    private KernelBits() {
    }

    public static void main(String[] args) {
        System.out.println("lanes " + FixedLaneDot.LEN + " parts " + FixedLaneDot.PARTS
                + " vector " + (FloatTensor.SPECIES == null ? 0 : FloatTensor.SPECIES.vectorBitSize()));
        for (String line : lines()) {
            System.out.println(line);
        }
    }

    /** The kernels' results as hex bits, one string per kernel and size. */
    static java.util.List<String> lines() {
        java.util.List<String> lines = new java.util.ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(2026);
        for (int n : new int[] {1, 15, 16, 17, 33, 64, 100, 172, 2048}) {
            float[] a = Q8DotTest.randomVector(rnd, n + 3);
            float[] b = Q8DotTest.randomVector(rnd, n + 5);
            StringBuilder sb = new StringBuilder("dot n=" + n + ":");
            bits(sb, FixedLaneDot.dot(a, 3, b, 5, n));
            bits(sb, FixedLaneDot.scalarDot(a, 3, b, 5, n));
            FloatTensor f32 = f32Tensor(a);
            bits(sb, f32.dot(3, b, 5, n));
            lines.add(sb.toString());
        }
        for (int n : new int[] {16, 64, 172, 2048}) {
            float[] a = Q8DotTest.randomVector(rnd, 4 * n + 1);
            float[] x = Q8DotTest.randomVector(rnd, 4 * n + 2);
            float[] out = new float[4 * 5 + 1];
            FixedLaneDot.dot4x4(a, 1, n, x, 2, n, n, out, 1, 5, new float[FixedLaneDot.TILE_SCRATCH]);
            StringBuilder sb = new StringBuilder("dot4x4 n=" + n + ":");
            for (float v : out) {
                bits(sb, v);
            }
            lines.add(sb.toString());
        }
        for (int n : new int[] {32, 64, 96, 2048}) {
            Q8_0Tensor w = Q8DotTest.randomTensor(rnd, 2 * n);
            float[] x = Q8DotTest.randomVector(rnd, n);
            Q8Activations q = new Q8Activations(n);
            q.quantize(x, 0, n, 0);
            StringBuilder sb = new StringBuilder("q8 n=" + n + ":");
            bits(sb, w.dot(n, x, 0, n));
            bits(sb, w.dotQ8(n, q, 0, n));
            bits(sb, Q8DotTest.direct(w).dotQ8(n, q, 0, n)); // a mapped tensor's rows are copied first
            bits(sb, Q8DotTest.direct(w).withHeapRows().dotQ8(n, q, 0, n)); // the heap rows in pair order
            lines.add(sb.toString());
        }
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
            for (int n : new int[] {256, 2048}) {
                FloatTensor w = Q8KDotTest.randomTensor(type, rnd, 2 * n);
                float[] x = Q8DotTest.randomVector(rnd, n);
                Q8KActivations q = new Q8KActivations(n);
                q.quantize(x, 0, n, 0);
                StringBuilder sb = new StringBuilder("q8k " + type + " n=" + n + ":");
                bits(sb, ((Q8KDot) w).dotQ8K(0, q, 0, n));
                bits(sb, ((Q8KDot) w).dotQ8K(n, q, 0, n));
                if (w instanceof HeapRows h) {
                    bits(sb, ((Q8KDot) h.withHeapRows()).dotQ8K(n, q, 0, n)); // the heap rows
                }
                lines.add(sb.toString());
            }
        }
        // matrix products through MatMul: a decode step (int8 on Q8_0 and K-quants) and a batch (the fixed-lane tile on F32, the panel tile on the others), two threads
        ComputePool pool = new ComputePool(2);
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K}) {
            int rows = 70;
            int cols = 256;
            FloatTensor w = switch (type) {
                case F32 -> f32Tensor(Q8DotTest.randomVector(rnd, rows * cols));
                case Q8_0 -> Q8DotTest.randomTensor(rnd, rows * cols);
                default -> Q8KDotTest.randomTensor(type, rnd, rows * cols);
            };
            for (int batch : new int[] {1, 9}) {
                float[] x = Q8DotTest.randomVector(rnd, batch * cols);
                float[] out = new float[batch * rows];
                new MatMul(pool, cols, true, true).apply(w, rows, cols, x, out, batch);
                StringBuilder sb = new StringBuilder("matmul " + type + " batch=" + batch + ":");
                for (float v : out) {
                    bits(sb, v);
                }
                lines.add(sb.toString());
            }
        }
        // the panel tile over several chunks of columns, the last one partial, and three panels of vectors
        FloatTensor wide = Q8DotTest.randomTensor(rnd, 19 * 800);
        float[] xs = Q8DotTest.randomVector(rnd, 40 * 800);
        float[] outs = new float[40 * 19];
        new MatMul(pool, 800, true, true).apply(wide, 19, 800, xs, outs, 40);
        StringBuilder sb = new StringBuilder("matmul Q8_0 cols=800 batch=40:");
        for (float v : outs) {
            bits(sb, v);
        }
        lines.add(sb.toString());
        return lines;
    }

    static FloatTensor f32Tensor(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        b.flip();
        return FloatTensor.of("f32", GgmlType.F32, b, values.length);
    }

    private static void bits(StringBuilder sb, float v) {
        sb.append(' ').append(Integer.toHexString(Float.floatToRawIntBits(v)));
    }
}
