package dev.icecache.gpu.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.GgmlType;

/**
 * The bytes a weight matrix is uploaded as, in the ggml layout its GPU kernel reads: F32, F16,
 * Q8_0 and Q4_0 exactly as stored ({@link FloatTensor#rawBytes()}, no decoding), BF16, Q5_0, Q5_1
 * and the K-quants (no kernel) decoded to F32. Always a direct buffer, so the driver can copy from its address.
 *
 * @param type the layout of {@code bytes}
 * @param bytes little-endian, read-only, direct
 */
public record TensorBytes(GgmlType type, ByteBuffer bytes) {

    /** The upload bytes of {@code t}. */
    public static TensorBytes of(FloatTensor t) {
        return switch (t.type()) {
            case F32, F16, Q8_0, Q4_0 -> new TensorBytes(t.type(), direct(t.rawBytes()));
            case BF16, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K -> decoded(t);
        };
    }

    /** A view of mapped data is already direct; heap data (a model built in memory) is copied. */
    private static ByteBuffer direct(ByteBuffer raw) {
        if (raw.isDirect()) {
            return raw;
        }
        ByteBuffer copy = ByteBuffer.allocateDirect(raw.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        copy.put(raw.duplicate()).flip();
        return copy.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static TensorBytes decoded(FloatTensor t) {
        if (t.size() * Float.BYTES > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' of " + t.size()
                    + " " + t.type() + " elements exceeds 2 GiB as F32; not supported on the GPU path (convert the model to F16)");
        }
        int n = (int) t.size();
        ByteBuffer b = ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        float[] chunk = new float[Math.min(n, 1 << 16)];
        for (int done = 0; done < n; done += chunk.length) {
            int len = Math.min(chunk.length, n - done);
            t.copyTo(done, chunk, 0, len);
            b.asFloatBuffer().put(done, chunk, 0, len);
        }
        return new TensorBytes(GgmlType.F32, b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
    }
}
