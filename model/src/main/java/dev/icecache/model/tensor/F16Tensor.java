package dev.icecache.model.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** A tensor of IEEE binary16 elements. */
public final class F16Tensor extends FloatTensor {

    private static final VectorSpecies<Short> HALF_SPECIES = SPECIES == null ? null
            : VectorSpecies.of(short.class, VectorShape.forBitSize(SPECIES.length() * Short.SIZE));
    // a constant, so that C2 intrinsifies the conversions (a species computed per call boxes every vector)
    private static final VectorSpecies<Integer> INT_SPECIES = SPECIES == null ? null : SPECIES.withLanes(int.class);

    F16Tensor(String name, ByteBuffer data, long size) {
        super(name, data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public float getFloat(long index) {
        return Float16.toFloat(data.getShort(Math.toIntExact(index * Short.BYTES)));
    }

    // NOTE: F16Tensor and BF16Tensor share the shape of vectorDot and differ only in how a short
    // lane widens to a float. A shared base with a virtual widening step would sit inside the
    // hot loop, where a bimorphic call stops C2 from keeping the vectors in registers; keep the
    // two in step by hand.
    @Override
    float vectorDot(long offset, float[] x, int xOff, int n) {
        int len = SPECIES.length();
        int base = Math.toIntExact(offset * Short.BYTES);
        FloatVector acc = FloatVector.zero(SPECIES);
        int i = 0;
        for (int upper = n - len; i <= upper; i += len) {
            IntVector h = (IntVector) ShortVector.fromByteBuffer(HALF_SPECIES, data, base + i * Short.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, INT_SPECIES, 0);
            acc = toFloats(h).fma(FloatVector.fromArray(SPECIES, x, xOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += getFloat(offset + i) * x[xOff + i];
        }
        return sum;
    }

    /** The lane-wise form of {@link Float16#toFloat} (same scaling trick, same special cases). */
    private static FloatVector toFloats(IntVector half) {
        IntVector abs = half.and(0x7fff);
        IntVector sign = half.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        FloatVector magnitude = abs.lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
        IntVector bits = magnitude.reinterpretAsInts();
        VectorMask<Integer> special = abs.compare(VectorOperators.GE, 0x7c00);
        bits = bits.blend(abs.and(0x3ff).lanewise(VectorOperators.LSHL, 13).or(0x7f800000), special);
        return bits.or(sign).reinterpretAsFloats();
    }
}
