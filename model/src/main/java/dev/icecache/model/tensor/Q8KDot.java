package dev.icecache.model.tensor;

/**
 * A K-quant tensor whose rows multiply a {@link Q8KActivations} vector in integers, as ggml's
 * {@code ggml_vec_dot_q*_K_q8_K}: per 256-element super-block, the products of the weights'
 * small integer quants with the int8 activations are summed exactly in {@code int}, weighted by
 * the sub-block scales (and, for types with mins, the sub-block mins times the activations'
 * partial sums), and only then multiplied by the float super-block scales:
 * <pre>
 *   for each super-block b, in order:
 *     sum = fma(d_b * dx_b, (float) isum_b, sum)
 *     sum = fma(-(dmin_b * dx_b), (float) msum_b, sum)     (types with mins)
 * </pre>
 * The integer sums have no order, so the vector kernels at every width and the scalar
 * fallback give identical bits. The result differs from {@link FloatTensor#dot} on the float
 * vector by the activations' quantization error.
 */
public sealed interface Q8KDot permits Q4_KTensor, Q5_KTensor, Q6_KTensor {

    /**
     * Dot product of the {@code n} elements at {@code offset} with the quantized vector
     * {@code x} from its element {@code xOff} (all multiples of {@link Q8KActivations#BLOCK}).
     *
     * @throws IllegalArgumentException when the range is not whole blocks within the tensor and the vector
     */
    float dotQ8K(long offset, Q8KActivations x, int xOff, int n);
}
