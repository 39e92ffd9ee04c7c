package dev.icecache.gpu.launch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The rope kernel's thread-to-pair mapping, emulated over its grid, against the per-head rotation of the CPU pass. */
class VectorOpLaunchTest {

    @Test
    void shouldRotateEveryAdjacentPairOnceWithItsHeadsAngleWhenEmulated() {
        for (long seed = 1; seed <= 10; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int headDim = 2 * (1 + rnd.nextInt(16));
            int heads = 1 + rnd.nextInt(6);
            int size = heads * headDim;
            int rows = 1 + rnd.nextInt(5);
            int position0 = rnd.nextInt(1000);
            float[] freq = new float[headDim / 2];
            for (int i = 0; i < freq.length; i++) {
                freq[i] = (float) (1.0 / Math.pow(10000, 2.0 * i / headDim));
            }
            float[] vec = new float[rows * size];
            for (int i = 0; i < vec.length; i++) {
                vec[i] = (float) rnd.nextDouble(-1, 1);
            }
            // reference: per row, per head h, per pair i: rotate (h*headDim + 2i, +1) by (pos * freq[i])
            float[] expected = vec.clone();
            for (int t = 0; t < rows; t++) {
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < headDim / 2; i++) {
                        rotate(expected, t * size + h * headDim + 2 * i, position0 + t, freq[i]);
                    }
                }
            }
            // emulation: thread -> (t, p) as rope() in ops.cu
            float[] got = vec.clone();
            int[] touched = new int[rows * size / 2];
            LaunchDims d = VectorOpLaunch.rope(rows, size, headDim);
            for (int b = 0; b < d.gridX(); b++) {
                for (int tx = 0; tx < d.blockX(); tx++) {
                    long pair = (long) b * d.blockX() + tx;
                    if (pair >= (long) rows * (size / 2)) {
                        continue;
                    }
                    int t = (int) (pair / (size / 2));
                    int p = (int) (pair % (size / 2));
                    touched[(int) pair]++;
                    rotate(got, t * size + 2 * p, position0 + t, freq[VectorOpLaunch.ropeAngleIndex(p, headDim)]);
                }
            }
            for (int c : touched) {
                assertEquals(1, c, "seed=" + seed + " every pair once");
            }
            assertArrayEquals(expected, got, "seed=" + seed);
        }
    }

    private static void rotate(float[] v, int at, int position, float freq) {
        double angle = (double) position * freq;
        float c = (float) Math.cos(angle);
        float s = (float) Math.sin(angle);
        float v0 = v[at];
        float v1 = v[at + 1];
        v[at] = v0 * c - v1 * s;
        v[at + 1] = v0 * s + v1 * c;
    }

    @Test
    void shouldSizeGridsAndRejectOddHeads() {
        assertEquals(4, VectorOpLaunch.perItem(1000).gridX());
        assertEquals(7, VectorOpLaunch.perRow(7).gridX());
        assertEquals(256, VectorOpLaunch.perRow(7).blockX());
        assertThrows(IllegalArgumentException.class, () -> VectorOpLaunch.rope(1, 12, 3));
        assertThrows(IllegalArgumentException.class, () -> VectorOpLaunch.perItem(0));
    }
}
