package dev.icecache.kvcache.tree;

import java.util.random.RandomGenerator;

/**
 * Seeded key and query generators for tree tests. Clustered keys imitate post-RoPE attention keys:
 * a few dominant directions (anisotropic: variance falls off across dimensions), clusters whose
 * popularity drifts along the sequence (topics of a stream), and rare high-norm keys that raise
 * M^2 late in a stream.
 */
final class TreeKeys {

    private TreeKeys() {
    }

    /** n isotropic Gaussian rows of d floats. */
    static float[] gaussian(int n, int d, RandomGenerator rnd) {
        float[] k = new float[n * d];
        for (int i = 0; i < k.length; i++) {
            k[i] = (float) rnd.nextGaussian();
        }
        return k;
    }

    /** n clustered, anisotropic rows of d floats with drifting cluster choice and rare outliers. */
    static float[] clustered(int n, int d, RandomGenerator rnd) {
        int clusters = Math.max(4, n / 150);
        double[] scale = new double[d];
        for (int i = 0; i < d; i++) {
            scale[i] = 3.0 * Math.exp(-4.0 * i / d) + 0.1;
        }
        double[] centers = new double[clusters * d];
        for (int c = 0; c < clusters; c++) {
            for (int i = 0; i < d; i++) {
                centers[c * d + i] = 1.5 * scale[i] * rnd.nextGaussian();
            }
        }
        float[] k = new float[n * d];
        for (int t = 0; t < n; t++) {
            // a window of clusters that slides with the position: topics drift through the stream
            int base = (int) ((long) t * clusters / Math.max(1, n));
            int c = Math.floorMod(base + rnd.nextInt(9) - 4, clusters);
            if (rnd.nextInt(10) == 0) {
                c = rnd.nextInt(clusters);
            }
            double boost = rnd.nextInt(200) == 0 ? 2.5 : 1.0;
            for (int i = 0; i < d; i++) {
                k[t * d + i] = (float) (boost * (centers[c * d + i] + 0.45 * scale[i] * rnd.nextGaussian()));
            }
        }
        return k;
    }

    /** A query near a random stored key (attention queries align with some keys), scaled. */
    static float[] queryNear(float[] keys, int n, int d, RandomGenerator rnd) {
        int t = rnd.nextInt(n);
        float[] q = new float[d];
        for (int i = 0; i < d; i++) {
            q[i] = (float) (1.7 * keys[t * d + i] + 0.8 * rnd.nextGaussian());
        }
        return q;
    }

    /** Tokens start, start+1, ... */
    static int[] positions(int n, int start) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = start + i;
        }
        return p;
    }
}
