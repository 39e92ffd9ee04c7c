package dev.icecache.model.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.GgmlType;
import dev.icecache.model.tensor.Q8Activations;
import dev.icecache.model.tensor.Q8KActivations;
import dev.icecache.model.tensor.Q8KDot;
import dev.icecache.model.tensor.Q8_0Tensor;
import dev.icecache.model.tensor.Quantizer;
import org.junit.jupiter.api.Test;

/** Decode-sized products on Q8_0 and K-quant weights: the int8 path and the float path, each against row-by-row dots. */
class MatMulTest {

    private static final ComputePool POOL = new ComputePool(2);

    private static Q8_0Tensor q8Matrix(SplittableRandom rnd, int rows, int cols) {
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rnd.nextGaussian();
        }
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(GgmlType.Q8_0.byteSizeFor(values.length)))
                .order(ByteOrder.LITTLE_ENDIAN);
        Quantizer.encode(GgmlType.Q8_0, values, values.length, b);
        b.flip();
        return (Q8_0Tensor) FloatTensor.of("w", GgmlType.Q8_0, b, values.length);
    }

    @Test
    void shouldGiveEachRowsInt8DotOnTheInt8Path() {
        for (long seed = 1; seed <= 12; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int rows = 1 + rnd.nextInt(200);
            int cols = 32 * (1 + rnd.nextInt(24));
            int batch = 1 + rnd.nextInt(3);
            Q8_0Tensor w = q8Matrix(rnd, rows, cols);
            float[] x = new float[batch * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            float[] out = new float[batch * rows];
            new MatMul(POOL, cols, true).apply(w, rows, cols, x, out, batch);
            Q8Activations q = new Q8Activations(cols);
            for (int t = 0; t < batch; t++) {
                q.quantize(x, t * cols, cols, 0);
                for (int r = 0; r < rows; r++) {
                    assertEquals(w.dotQ8((long) r * cols, q, 0, cols), out[t * rows + r],
                            "seed=" + seed + " t=" + t + " r=" + r);
                }
            }
            float[] floatOut = new float[batch * rows];
            new MatMul(POOL, cols, false).apply(w, rows, cols, x, floatOut, batch);
            for (int t = 0; t < batch; t++) {
                for (int r = 0; r < rows; r++) {
                    assertEquals(w.dot((long) r * cols, x, t * cols, cols), floatOut[t * rows + r],
                            "seed=" + seed + " float path t=" + t + " r=" + r);
                }
            }
        }
    }

    @Test
    void shouldKeepFloatPathWhenColumnsAreNotWholeBlocks() {
        SplittableRandom rnd = new SplittableRandom(5);
        int rows = 3;
        int cols = 48; // one and a half blocks per row: rows straddle block boundaries
        Q8_0Tensor w = q8Matrix(rnd, 4, 48); // 192 elements = 6 blocks
        float[] x = new float[cols];
        for (int i = 0; i < cols; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] out = new float[rows];
        new MatMul(POOL, 64, true).apply(w, rows, cols, x, out, 1);
        for (int r = 0; r < rows; r++) {
            assertEquals(w.dot((long) r * cols, x, 0, cols), out[r], "row " + r);
        }
    }

    @Test
    void shouldGiveEachRowsQ8KDotOnTheInt8PathForKQuants() {
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
            for (long seed = 1; seed <= 6; seed++) {
                SplittableRandom rnd = new SplittableRandom(seed);
                int rows = 1 + rnd.nextInt(200);
                int cols = 256 * (1 + rnd.nextInt(4));
                int batch = 1 + rnd.nextInt(3);
                float[] values = new float[rows * cols];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) rnd.nextGaussian();
                }
                ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(type.byteSizeFor(values.length))).order(ByteOrder.LITTLE_ENDIAN);
                Quantizer.encode(type, values, values.length, b);
                b.flip();
                FloatTensor w = FloatTensor.of("w", type, b, values.length);
                float[] x = new float[batch * cols];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                float[] out = new float[batch * rows];
                new MatMul(POOL, cols, true, true).apply(w, rows, cols, x, out, batch);
                Q8KActivations q = new Q8KActivations(cols);
                for (int t = 0; t < batch; t++) {
                    q.quantize(x, t * cols, cols, 0);
                    for (int r = 0; r < rows; r++) {
                        assertEquals(((Q8KDot) w).dotQ8K((long) r * cols, q, 0, cols), out[t * rows + r],
                                type + " seed=" + seed + " t=" + t + " r=" + r);
                    }
                }
                float[] floatOut = new float[batch * rows];
                new MatMul(POOL, cols, false).apply(w, rows, cols, x, floatOut, batch);
                for (int t = 0; t < batch; t++) {
                    for (int r = 0; r < rows; r++) {
                        assertEquals(w.dot((long) r * cols, x, t * cols, cols), floatOut[t * rows + r],
                                type + " seed=" + seed + " float path t=" + t + " r=" + r);
                    }
                }
            }
        }
    }
}
