package dev.icecache.kvcache.tree;

import dev.icecache.kvcache.Checks;
import java.util.random.RandomGenerator;

/**
 * One random unit direction u of dimension headDim+1 along which keys and queries are projected
 * after the MIPS-to-NN transform (icecache.md "The MIPS-&gt;NN transform"). The reference shares one
 * direction between all layers and heads; so does this class: it is immutable.
 *
 * <pre>
 *   key projection   = u[0..d) . k + sqrt(M^2 - |k|^2) * u[d]
 *   query projection = u[0..d) . q / |q|
 * </pre>
 */
public final class Projection {

    private final int headDim;
    private final double[] u; // [headDim + 1], unit length

    /**
     * Draws a direction uniformly on the unit sphere (normalised Gaussian components).
     *
     * @param headDim floats per key row (&gt; 0)
     * @param rnd the seeded source (style.md rule 22)
     */
    public Projection(int headDim, RandomGenerator rnd) {
        Checks.checkArgument(headDim > 0, "headDim=%d must be > 0", headDim);
        Checks.checkArgument(rnd != null, "rnd must not be null; pass a seeded RandomGenerator");
        this.headDim = headDim;
        this.u = new double[headDim + 1];
        double norm2 = 0;
        while (norm2 < 1e-12) {
            norm2 = 0;
            for (int i = 0; i <= headDim; i++) {
                u[i] = rnd.nextGaussian();
                norm2 += u[i] * u[i];
            }
        }
        double inv = 1.0 / Math.sqrt(norm2);
        for (int i = 0; i <= headDim; i++) {
            u[i] *= inv;
        }
    }

    /** Floats per key row this direction projects. */
    public int headDim() {
        return headDim;
    }

    /** Component {@code i} of the unit direction, {@code 0 <= i <= headDim}. */
    public double component(int i) {
        return u[Checks.checkIndex(i, headDim + 1)];
    }

    /** u[0..d) . x for one row of headDim floats at {@code x[off]}, in double. */
    double dotHead(float[] x, int off) {
        double s = 0;
        for (int i = 0; i < headDim; i++) {
            s += u[i] * x[off + i];
        }
        return s;
    }

    /** u[0..d) . (codes * scale) for one compact key row at {@code codes[off]}, in double. */
    double dotHead(byte[] codes, int off, float scale) {
        double s = 0;
        for (int i = 0; i < headDim; i++) {
            s += u[i] * codes[off + i];
        }
        return s * scale;
    }

    /** The last component u[d], which multiplies the augmented coordinate. */
    double last() {
        return u[headDim];
    }
}
