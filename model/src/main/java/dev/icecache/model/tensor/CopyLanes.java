package dev.icecache.model.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The species of the K-quant heap rows' row decode ({@code heapCopy}): as many float lanes as the
 * machine's preferred vectors where those are 512 bits wide, else eight. At 512 bits a 256-bit
 * float vector in the prefill's row decode made C2 merge the two widths' profiles of the vector
 * library's shared methods, and the 512-bit panel tile then boxed its accumulators (a prefill of a
 * 5-token prompt on a Q4_K_M model allocated ~150 GB). Each element is decoded with the same float
 * operations at either width, so the bits are the same.
 */
final class CopyLanes {

    static final VectorSpecies<Float> FLOATS = FloatTensor.SPECIES != null && FloatTensor.SPECIES.length() == 16
            ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    /** Lanes per vector: 8 or 16. */
    static final int LEN = FLOATS.length();
    /** As many bytes as float lanes. */
    static final VectorSpecies<Byte> BYTES = LEN == 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
    /** As many ints as float lanes. */
    static final VectorSpecies<Integer> INTS = LEN == 16 ? IntVector.SPECIES_512 : IntVector.SPECIES_256;

    private CopyLanes() {
    }
}
