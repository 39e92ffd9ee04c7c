package dev.icecache.model.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import jdk.incubator.vector.FloatVector;

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

    /** {@link FixedLaneDot}'s order, read straight from the mapped floats. */
    @Override
    float kernelDot(long offset, float[] x, int xOff, int n) {
        int base = Math.toIntExact(offset * Float.BYTES);
        int m = n & -FixedLaneDot.LANES;
        float sum;
        if (SPECIES == null) {
            float[] lanes = FixedLaneDot.zeroLanes();
            for (int i = 0; i < m; i++) {
                lanes[i % FixedLaneDot.LANES] = Math.fma(data.getFloat(base + i * Float.BYTES), x[xOff + i],
                        lanes[i % FixedLaneDot.LANES]);
            }
            sum = FixedLaneDot.fold(lanes, 0);
        } else {
            float[] lanes = FixedLaneDot.lanes();
            for (int p = 0; p < FixedLaneDot.PARTS; p++) {
                int lane = p * FixedLaneDot.LEN;
                FloatVector acc = FloatVector.zero(SPECIES);
                for (int i = 0; i < m; i += FixedLaneDot.LANES) {
                    acc = FloatVector.fromByteBuffer(SPECIES, data, base + (i + lane) * Float.BYTES, ByteOrder.LITTLE_ENDIAN)
                            .fma(FloatVector.fromArray(SPECIES, x, xOff + i + lane), acc);
                }
                acc.intoArray(lanes, lane);
            }
            sum = FixedLaneDot.fold(lanes, 0);
        }
        for (int i = m; i < n; i++) {
            sum = Math.fma(data.getFloat(base + i * Float.BYTES), x[xOff + i], sum);
        }
        return sum;
    }

    @Override
    float vectorDot(long offset, float[] x, int xOff, int n) {
        return kernelDot(offset, x, xOff, n);
    }
}
