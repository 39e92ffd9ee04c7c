package dev.icecache.kvcache.tree;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link CompactKeys#codeDot} on 256-bit vectors: 8 codes of each row widened to 8 int lanes,
 * multiplied and added. Integer arithmetic is exact (|sum| &lt;= d * 127^2 fits an int for any
 * d below 133,000), so the lane order does not matter: the result equals the scalar loop's on
 * every machine. Loaded only through {@link CompactKeys}, which falls back to the scalar loop
 * when the JVM lacks the {@code jdk.incubator.vector} module or 256-bit vectors.
 */
final class CodeDotVector {

    private static final VectorSpecies<Integer> EIGHT = IntVector.SPECIES_256;
    private static final VectorSpecies<Byte> EIGHT_CODES = ByteVector.SPECIES_64;

    private CodeDotVector() {
    }

    /**
     * {@link #codeDot} of the row at {@code offA} with four rows at {@code b0 .. b3} ({@code d} a
     * multiple of 8): {@code out[u]}, u = 0..3. Row a is widened once for the four, and the four
     * sums are independent chains.
     */
    static void codeDot4(byte[] codes, int offA, int b0, int b1, int b2, int b3, int d, int[] out) {
        IntVector x0 = IntVector.zero(EIGHT);
        IntVector x1 = x0;
        IntVector x2 = x0;
        IntVector x3 = x0;
        for (int i = 0; i < d; i += 8) {
            IntVector a = (IntVector) ByteVector.fromArray(EIGHT_CODES, codes, offA + i)
                    .convertShape(VectorOperators.B2I, EIGHT, 0);
            x0 = x0.add(a.mul((IntVector) ByteVector.fromArray(EIGHT_CODES, codes, b0 + i)
                    .convertShape(VectorOperators.B2I, EIGHT, 0)));
            x1 = x1.add(a.mul((IntVector) ByteVector.fromArray(EIGHT_CODES, codes, b1 + i)
                    .convertShape(VectorOperators.B2I, EIGHT, 0)));
            x2 = x2.add(a.mul((IntVector) ByteVector.fromArray(EIGHT_CODES, codes, b2 + i)
                    .convertShape(VectorOperators.B2I, EIGHT, 0)));
            x3 = x3.add(a.mul((IntVector) ByteVector.fromArray(EIGHT_CODES, codes, b3 + i)
                    .convertShape(VectorOperators.B2I, EIGHT, 0)));
        }
        out[0] = x0.reduceLanes(VectorOperators.ADD);
        out[1] = x1.reduceLanes(VectorOperators.ADD);
        out[2] = x2.reduceLanes(VectorOperators.ADD);
        out[3] = x3.reduceLanes(VectorOperators.ADD);
    }

    static int codeDot(byte[] codes, int offA, int offB, int d) {
        IntVector acc = IntVector.zero(EIGHT);
        int i = 0;
        for (; i + 8 <= d; i += 8) {
            IntVector a = (IntVector) ByteVector.fromArray(EIGHT_CODES, codes, offA + i)
                    .convertShape(VectorOperators.B2I, EIGHT, 0);
            IntVector b = (IntVector) ByteVector.fromArray(EIGHT_CODES, codes, offB + i)
                    .convertShape(VectorOperators.B2I, EIGHT, 0);
            acc = acc.add(a.mul(b));
        }
        int s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < d; i++) {
            s += codes[offA + i] * codes[offB + i];
        }
        return s;
    }
}
