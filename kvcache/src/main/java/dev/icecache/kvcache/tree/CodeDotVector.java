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
