package dev.icecache.kvcache.tree;

/**
 * The MIPS-to-NN transform of icecache.md "The MIPS-&gt;NN transform", with a running maximum
 * squared key norm M^2.
 *
 * <pre>
 *   key k    -&gt; [k, sqrt(M^2 - |k|^2)]       every transformed key has norm M
 *   query q  -&gt; [q/|q|, 0]
 *   keyDistance(k1, k2) = M^2 - k1.k2 - sqrt((M^2-|k1|^2)(M^2-|k2|^2))   (half the squared
 *                         Euclidean distance of the transformed keys; smaller is closer)
 * </pre>
 *
 * Keys are the nodes' compact keys ({@link CompactKeys}). Everything here is double precision: the augmented term sqrt(M^2 - |k|^2) is a difference of
 * nearly equal numbers for the largest keys, and projection fix-ups after M^2 grows depend on it.
 */
final class MipsTransform {

    private final Projection projection;
    private double m2; // the largest squared key norm seen so far

    MipsTransform(Projection projection, double m2) {
        this.projection = projection;
        this.m2 = m2;
    }

    Projection projection() {
        return projection;
    }

    /** The current M^2. */
    double m2() {
        return m2;
    }

    /** Raises M^2 to at least {@code norm2}; returns true when it grew. */
    boolean observe(double norm2) {
        if (norm2 > m2) {
            m2 = norm2;
            return true;
        }
        return false;
    }

    /** The augmented coordinate sqrt(M^2 - |k|^2) under the current M^2. */
    double augmented(double norm2) {
        return augmented(norm2, m2);
    }

    /** The augmented coordinate under a given M^2 (clamped at 0 against rounding). */
    static double augmented(double norm2, double m2) {
        return Math.sqrt(Math.max(0.0, m2 - norm2));
    }

    /** A key's projection u[0..d).k + sqrt(m2 - |k|^2) u[d], from its precomputed head part. */
    double keyProjection(double headProjection, double norm2, double cellM2) {
        return headProjection + augmented(norm2, cellM2) * projection.last();
    }

    /** u[0..d).k of a node's compact key, in double (recomputed, not stored). */
    double headProjection(Nodes nodes, int node) {
        return projection.dotHead(nodes.codes, nodes.keyOff(node), nodes.scale[node]);
    }

    /** A node's projection under {@code cellM2}. */
    double keyProjection(Nodes nodes, int node, double cellM2) {
        return keyProjection(headProjection(nodes, node), nodes.norm2[node], cellM2);
    }

    /** A query's projection u[0..d).q/|q| (0 for the zero query). */
    double queryProjection(float[] q, int off, int headDim) {
        double n2 = 0;
        for (int i = 0; i < headDim; i++) {
            n2 += (double) q[off + i] * q[off + i];
        }
        return n2 == 0 ? 0.0 : projection.dotHead(q, off) / Math.sqrt(n2);
    }

    /**
     * The inner product of two transformed keys, k1.k2 + sqrt(M^2-|k1|^2) sqrt(M^2-|k2|^2): the
     * larger, the closer (keyDistance = M^2 - this).
     */
    double augmentedDot(Nodes n, int a, int b) {
        int dot = CompactKeys.codeDot(n.codes, n.keyOff(a), n.keyOff(b), n.headDim);
        return augmentedDot(dot, n.scale[a], augmented(n.norm2[a]), n, b);
    }

    /**
     * {@link #augmentedDot} of node {@code a} with the four nodes {@code b0 .. b3}, into
     * {@code out[0 .. 3]}: the same doubles, the four code dots side by side
     * ({@link CompactKeys#codeDot4}). {@code dots} is four ints of scratch.
     */
    void augmentedDot4(Nodes n, int a, int b0, int b1, int b2, int b3, int[] dots, double[] out) {
        CompactKeys.codeDot4(n.codes, n.keyOff(a), n.keyOff(b0), n.keyOff(b1), n.keyOff(b2), n.keyOff(b3), n.headDim,
                dots);
        double sa = n.scale[a];
        double ua = augmented(n.norm2[a]);
        out[0] = augmentedDot(dots[0], sa, ua, n, b0);
        out[1] = augmentedDot(dots[1], sa, ua, n, b1);
        out[2] = augmentedDot(dots[2], sa, ua, n, b2);
        out[3] = augmentedDot(dots[3], sa, ua, n, b3);
    }

    /**
     * The augmented dot of a node a (its code dot with node b, its scale {@code sa} and augmented
     * coordinate {@code ua}) with node b: code dot * (scale_a * scale_b) + ua * ub, in double.
     */
    private double augmentedDot(int codeDot, double sa, double ua, Nodes n, int b) {
        return codeDot * (sa * n.scale[b]) + ua * augmented(n.norm2[b]);
    }

    /** keyDistance of two nodes' compact keys under the current M^2. */
    double keyDistance(Nodes n, int a, int b) {
        return m2 - augmentedDot(n, a, b);
    }
}
