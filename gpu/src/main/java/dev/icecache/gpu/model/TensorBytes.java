package dev.icecache.gpu.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

import dev.icecache.model.ModelFormatException;
import dev.icecache.model.gguf.GgufFile;
import dev.icecache.model.gguf.GgufTensorInfo;
import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.GgmlType;

/**
 * The bytes a weight matrix is uploaded as, in the ggml layout its GPU kernel reads. F32 and F16
 * are rebuilt exactly from the tensor's decoded values; BF16 (no kernel) becomes F32; Q8_0 and
 * Q4_0 blocks cannot be rebuilt from decoded floats, so they are read from the GGUF file by
 * tensor name (bounds-checked against the file size).
 *
 * <p>NOTE: {@code FloatTensor} does not expose its bytes; a {@code FloatTensor.rawBytes()} in
 * the model module would remove the file lookup (asked for in the gpu report).
 *
 * @param type the layout of {@code bytes}
 * @param bytes little-endian, read-only
 */
public record TensorBytes(GgmlType type, ByteBuffer bytes) {

    /**
     * The upload bytes of {@code t}.
     *
     * @param file the GGUF file {@code t} was mapped from, or null (then Q8_0/Q4_0 fail)
     * @throws IllegalArgumentException when a quantized tensor has no file to read from
     * @throws ModelFormatException when the file's entry does not match the tensor
     */
    public static TensorBytes of(FloatTensor t, GgufFile file) throws IOException {
        return switch (t.type()) {
            case F32, BF16 -> decoded(t);
            case F16 -> halves(t);
            case Q8_0, Q4_0 -> fromFile(t, file);
        };
    }

    private static TensorBytes decoded(FloatTensor t) {
        int n = checkedElements(t, Float.BYTES);
        ByteBuffer b = ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        float[] chunk = new float[Math.min(n, 1 << 16)];
        for (int done = 0; done < n; done += chunk.length) {
            int len = Math.min(chunk.length, n - done);
            t.copyTo(done, chunk, 0, len);
            b.asFloatBuffer().put(done, chunk, 0, len);
        }
        return new TensorBytes(GgmlType.F32, b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
    }

    private static TensorBytes halves(FloatTensor t) {
        int n = checkedElements(t, Short.BYTES);
        ByteBuffer b = ByteBuffer.allocateDirect(n * Short.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putShort(i * Short.BYTES, dev.icecache.model.tensor.Float16.fromFloat(t.getFloat(i)));
        }
        return new TensorBytes(GgmlType.F16, b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
    }

    private static TensorBytes fromFile(FloatTensor t, GgufFile file) throws IOException {
        if (file == null) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' is " + t.type()
                    + ": its blocks can only be uploaded from the GGUF file; pass the model's GgufFile");
        }
        GgufTensorInfo info = file.tensors().get(t.name());
        if (info == null || info.type() != t.type() || info.elementCount() != t.size()) {
            throw new ModelFormatException("GGUF file " + file.path() + " has no tensor '" + t.name() + "' of type "
                    + t.type() + " with " + t.size() + " elements; upload from the file the model was loaded from");
        }
        try (FileChannel ch = FileChannel.open(file.path(), StandardOpenOption.READ)) {
            long start = file.dataOffset() + info.offset();
            long bytes = info.byteSize();
            if (start < 0 || bytes < 0 || bytes > Integer.MAX_VALUE || start + bytes > ch.size()) {
                throw new ModelFormatException("GGUF tensor '" + t.name() + "': offset=" + start + " size=" + bytes
                        + " exceeds file size=" + ch.size() + "; file truncated or corrupt");
            }
            ByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, start, bytes).order(ByteOrder.LITTLE_ENDIAN);
            return new TensorBytes(t.type(), mapped);
        }
    }

    private static int checkedElements(FloatTensor t, int bytesPerElement) {
        if (t.size() * bytesPerElement > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' of " + t.size()
                    + " elements exceeds 2 GiB as " + bytesPerElement + "-byte values; not supported on the GPU path");
        }
        return (int) t.size();
    }
}
