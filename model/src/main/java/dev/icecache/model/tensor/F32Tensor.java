package dev.icecache.model.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** A tensor of IEEE binary32 elements. */
public final class F32Tensor extends FloatTensor {

    /** Float view of the data, kept so that bulk copies (absolute, thread-safe) allocate nothing. */
    private final FloatBuffer floats;

    F32Tensor(String name, ByteBuffer data, long size) {
        super(name, data, size);
        this.floats = this.data.asFloatBuffer();
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public float getFloat(long index) {
        return data.getFloat(Math.toIntExact(index * Float.BYTES));
    }

    @Override
    public void copyTo(long offset, float[] dst, int dstOff, int n) {
        floats.get(Math.toIntExact(offset), dst, dstOff, n);
    }

    @Override
    float vectorDot(long offset, float[] x, int xOff, int n) {
        int len = SPECIES.length();
        int base = Math.toIntExact(offset * Float.BYTES);
        // two accumulators hide the fma latency
        FloatVector acc0 = FloatVector.zero(SPECIES);
        FloatVector acc1 = FloatVector.zero(SPECIES);
        int i = 0;
        for (int upper = n - 2 * len; i <= upper; i += 2 * len) {
            acc0 = FloatVector.fromByteBuffer(SPECIES, data, base + i * Float.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(SPECIES, x, xOff + i), acc0);
            acc1 = FloatVector.fromByteBuffer(SPECIES, data, base + (i + len) * Float.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(SPECIES, x, xOff + i + len), acc1);
        }
        for (int upper = n - len; i <= upper; i += len) {
            acc0 = FloatVector.fromByteBuffer(SPECIES, data, base + i * Float.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(SPECIES, x, xOff + i), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += data.getFloat(base + i * Float.BYTES) * x[xOff + i];
        }
        return sum;
    }
}
