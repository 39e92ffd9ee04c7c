package dev.icecache.kvcache.policy;

import dev.icecache.kvcache.CacheShape;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.RangeRunner;
import java.util.SplittableRandom;

/**
 * Seeded synthetic K, V and Q rows for every (layer, position), and a driver that feeds them to
 * any {@link KvCache} the way an engine does: per chunk, each layer appends the chunk's positions
 * and then attends each of them.
 */
final class CacheDriver {

    final CacheShape shape;
    final float[][][] k; // [layer][position][kvDim]
    final float[][][] v; // [layer][position][kvDim]
    final float[][][] q; // [layer][position][qDim]

    CacheDriver(CacheShape shape, long seed, int positions) {
        this.shape = shape;
        SplittableRandom rnd = new SplittableRandom(seed);
        k = new float[shape.nLayers()][positions][shape.kvDim()];
        v = new float[shape.nLayers()][positions][shape.kvDim()];
        q = new float[shape.nLayers()][positions][shape.qDim()];
        for (int l = 0; l < shape.nLayers(); l++) {
            for (int p = 0; p < positions; p++) {
                fill(k[l][p], rnd);
                fill(v[l][p], rnd);
                fill(q[l][p], rnd);
            }
        }
    }

    private static void fill(float[] a, SplittableRandom rnd) {
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
    }

    /**
     * Runs positions {@code from .. to-1} in chunks of {@code chunk[i % chunk.length]} positions and
     * writes each attention output to {@code out[layer][position]}.
     */
    void run(KvCache cache, int from, int to, int[] chunk, float[][][] out) {
        int p = from;
        for (int c = 0; p < to; c++) {
            int end = Math.min(to, p + chunk[c % chunk.length]);
            for (int l = 0; l < shape.nLayers(); l++) {
                for (int i = p; i < end; i++) {
                    cache.append(l, i, k[l][i], 0, v[l][i], 0);
                }
                for (int i = p; i < end; i++) {
                    out[l][i] = new float[shape.qDim()];
                    cache.attend(l, i, q[l][i], 0, out[l][i], 0);
                }
            }
            p = end;
        }
    }

    /**
     * As {@link #run}, but each layer attends a chunk's positions with one
     * {@link KvCache#attendBlock} call (queries packed, as the engine's prefill passes them).
     */
    void runBlocks(KvCache cache, int from, int to, int[] chunk, float[][][] out) {
        runBlocks(cache, from, to, chunk, out, null);
    }

    /** As {@link #runBlocks}, each block's attention spread over {@code workers} (null: the 7-argument call). */
    void runBlocks(KvCache cache, int from, int to, int[] chunk, float[][][] out, RangeRunner workers) {
        int qDim = shape.qDim();
        int p = from;
        for (int c = 0; p < to; c++) {
            int end = Math.min(to, p + chunk[c % chunk.length]);
            int n = end - p;
            for (int l = 0; l < shape.nLayers(); l++) {
                for (int i = p; i < end; i++) {
                    cache.append(l, i, k[l][i], 0, v[l][i], 0);
                }
                float[] qs = new float[n * qDim + 3];
                for (int i = p; i < end; i++) {
                    System.arraycopy(q[l][i], 0, qs, 3 + (i - p) * qDim, qDim);
                }
                float[] outs = new float[n * qDim + 5];
                if (workers == null) {
                    cache.attendBlock(l, p, n, qs, 3, outs, 5);
                } else {
                    cache.attendBlock(l, p, n, qs, 3, outs, 5, workers);
                }
                for (int i = p; i < end; i++) {
                    out[l][i] = java.util.Arrays.copyOfRange(outs, 5 + (i - p) * qDim, 5 + (i - p + 1) * qDim);
                }
            }
            p = end;
        }
    }

    float[][][] newOutputs(int positions) {
        return new float[shape.nLayers()][positions][];
    }
}
