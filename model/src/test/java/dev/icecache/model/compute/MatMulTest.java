package dev.icecache.model.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.GgmlType;
import dev.icecache.model.tensor.HeapRows;
import dev.icecache.model.tensor.Q8Activations;
import dev.icecache.model.tensor.Q8KActivations;
import dev.icecache.model.tensor.Q8KDot;
import dev.icecache.model.tensor.Q8_0Tensor;
import dev.icecache.model.tensor.Quantizer;
import org.junit.jupiter.api.Test;

/**
 * Decode-sized products on Q8_0 and K-quant weights: the int8 path and the float path, each
 * against row-by-row dots; batched products on quantized weights (the panel tile) against a
 * scalar chain per product.
 */
class MatMulTest {

    private static final ComputePool POOL = new ComputePool(2);

    private static Q8_0Tensor q8Matrix(SplittableRandom rnd, int rows, int cols) {
        return (Q8_0Tensor) matrix(GgmlType.Q8_0, rnd, rows, cols);
    }

    /** A rows x cols matrix of Gaussian values, quantized to {@code type}. */
    private static FloatTensor matrix(GgmlType type, SplittableRandom rnd, int rows, int cols) {
        float[] values = gaussian(rnd, rows * cols);
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(type.byteSizeFor(values.length))).order(ByteOrder.LITTLE_ENDIAN);
        Quantizer.encode(type, values, values.length, b);
        b.flip();
        return FloatTensor.of("w", type, b, values.length);
    }

    private static float[] gaussian(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    @Test
    void shouldGiveEachRowsInt8DotOnTheInt8Path() {
        for (long seed = 1; seed <= 12; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int rows = 1 + rnd.nextInt(200);
            int cols = 32 * (1 + rnd.nextInt(24));
            int batch = 1 + rnd.nextInt(3);
            Q8_0Tensor w = q8Matrix(rnd, rows, cols);
            float[] x = gaussian(rnd, batch * cols);
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
        float[] x = gaussian(rnd, cols);
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
                FloatTensor w = matrix(type, rnd, rows, cols);
                float[] x = gaussian(rnd, batch * cols);
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

    @Test
    void shouldGiveEachBatchedProductOneChainInColumnOrderOnQuantizedWeights() {
        GgmlType[] types = {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K};
        for (GgmlType type : types) {
            for (long seed = 1; seed <= 4; seed++) {
                SplittableRandom rnd = new SplittableRandom(seed * 31 + type.ordinal());
                int rows = 1 + rnd.nextInt(60); // partial panels of sixteen rows
                int cols = type.blockSize() * (1 + rnd.nextInt(type.blockSize() == 32 ? 40 : 5)); // chunks of 256 and a partial one
                int batch = 4 + rnd.nextInt(11); // partial groups of four
                FloatTensor w = matrix(type, rnd, rows, cols);
                float[] x = gaussian(rnd, batch * cols);
                float[] out = new float[batch * rows];
                MatMul matmul = new MatMul(POOL, cols, true, true);
                matmul.apply(w, rows, cols, x, out, batch);
                float[] row = new float[cols];
                for (int r = 0; r < rows; r++) {
                    w.copyTo((long) r * cols, row, 0, cols);
                    for (int t = 0; t < batch; t++) {
                        float s = 0f;
                        for (int c = 0; c < cols; c++) {
                            s = Math.fma(row[c], x[t * cols + c], s);
                        }
                        assertEquals(Float.floatToRawIntBits(s), Float.floatToRawIntBits(out[t * rows + r]),
                                type + " seed=" + seed + " rows=" + rows + " cols=" + cols + " batch=" + batch + " t=" + t + " r=" + r);
                    }
                }
                if (w instanceof HeapRows h) { // the decode rows on the heap, where the panel reads them
                    float[] fromHeap = new float[batch * rows];
                    new MatMul(POOL, cols, true, true).apply((FloatTensor) h.withHeapRows(), rows, cols, x, fromHeap, batch);
                    for (int i = 0; i < out.length; i++) {
                        assertEquals(Float.floatToRawIntBits(out[i]), Float.floatToRawIntBits(fromHeap[i]), type + " heap rows, i=" + i);
                    }
                }
                // a smaller batch after a larger one reuses the grown buffers without stale vectors
                float[] small = new float[4 * rows];
                matmul.apply(w, rows, cols, x, small, 4);
                for (int i = 0; i < small.length; i++) {
                    assertEquals(Float.floatToRawIntBits(out[i]), Float.floatToRawIntBits(small[i]), type + " smaller batch, i=" + i);
                }
            }
        }
    }
}
