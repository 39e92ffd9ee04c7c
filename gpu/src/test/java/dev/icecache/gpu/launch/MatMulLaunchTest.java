package dev.icecache.gpu.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.GgmlType;
import dev.icecache.model.tensor.Quantizer;

/** The matmul kernel's grid and addressing, emulated on the CPU against the model's tensor decoding. */
class MatMulLaunchTest {

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "Q8_0", "Q4_0"})
    void shouldComputeEveryOutputOnceAndMatchTheCpuDotWhenEmulated(GgmlType type) {
        for (long seed = 1; seed <= 12; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed * 31 + type.ordinal());
            int rows = 1 + rnd.nextInt(40);
            int cols = 32 * (1 + rnd.nextInt(40));   // up to 1280: more blocks than lanes
            int batch = 1 + rnd.nextInt(11);
            float[] weights = new float[rows * cols];
            for (int i = 0; i < weights.length; i++) {
                weights[i] = (float) rnd.nextDouble(-1, 1);
            }
            ByteBuffer bytes = ByteBuffer.allocate((int) type.byteSizeFor(weights.length)).order(ByteOrder.LITTLE_ENDIAN);
            Quantizer.encode(type, weights, weights.length, bytes);
            bytes.flip();
            FloatTensor tensor = FloatTensor.of("w", type, bytes, weights.length);
            float[] x = new float[batch * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextDouble(-1, 1);
            }
            MatMulLaunch p = new MatMulLaunch(type, rows, cols, batch);
            float[] out = new float[rows * batch];
            int[] writes = new int[rows * batch];
            KernelEmulator.matmul(p, bytes, x, out, writes);
            for (int t = 0; t < batch; t++) {
                for (int r = 0; r < rows; r++) {
                    int o = t * rows + r;
                    assertEquals(1, writes[o], "seed=" + seed + " output t=" + t + " r=" + r + " written once");
                    float expected = tensor.scalarDot((long) r * cols, x, t * cols, cols);
                    assertEquals(expected, out[o], 1e-4f * cols, "seed=" + seed + " " + type + " t=" + t + " r=" + r);
                }
            }
        }
    }

    @Test
    void shouldPlaceRowsByTheGgmlBlockLayout() {
        assertEquals(34L * 4096 / 32 * 5, new MatMulLaunch(GgmlType.Q8_0, 10, 4096, 1).rowByteOffset(5));
        assertEquals(18L * 64 / 32 * 3, new MatMulLaunch(GgmlType.Q4_0, 4, 64, 1).rowByteOffset(3));
        assertEquals(2L * 100 * 7, new MatMulLaunch(GgmlType.F16, 8, 100, 1).rowByteOffset(7));
        LaunchDims d = new MatMulLaunch(GgmlType.F32, 17, 64, 9).dims();
        assertEquals(3, d.gridX());   // 17 rows / 8 warps
        assertEquals(3, d.gridY());   // 9 vectors / 4 per tile
        assertEquals(256, d.blockX());
    }

    @Test
    void shouldRejectWhatNoKernelHandles() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MatMulLaunch(GgmlType.Q8_0, 4, 48, 1));
        assertTrue(e.getMessage().contains("cols=48"), e.getMessage());
        assertThrows(UnsupportedOperationException.class, () -> new MatMulLaunch(GgmlType.BF16, 4, 64, 1));
        assertThrows(IllegalArgumentException.class, () -> new MatMulLaunch(GgmlType.F32, 0, 64, 1));
    }
}
