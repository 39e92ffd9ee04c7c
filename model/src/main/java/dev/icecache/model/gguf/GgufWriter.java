package dev.icecache.model.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.icecache.model.tensor.GgmlType;
import dev.icecache.model.tensor.Quantizer;

/**
 * Writes a GGUF v3 file (layout in {@link GgufFile}): metadata, then tensors encoded in any
 * supported {@link GgmlType} from floats. Tensor data is pulled from a {@link TensorSource} in
 * chunks while writing, so models larger than the heap can be written.
 */
public final class GgufWriter {

    /** Supplies a tensor's elements in order, chunk by chunk. */
    public interface TensorSource {
        /** Fills {@code dst[0 .. n)} with elements {@code [offset, offset+n)}; called with increasing offsets from 0. */
        void fill(long offset, float[] dst, int n);
    }

    private record Value(int type, int elementType, Object value) {
    }

    private record Tensor(String name, GgmlType type, long[] dims, long elements, TensorSource source) {
    }

    private static final int CHUNK = 1 << 16; // elements encoded per write, a multiple of every block size

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    /** Sets {@code general.alignment} (a power of two). */
    public GgufWriter alignment(int alignment) {
        if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment=" + alignment + " must be a power of two");
        }
        this.alignment = alignment;
        return putUInt32("general.alignment", alignment);
    }

    /** Sets metadata {@code key} to a string value (replacing an earlier value of the key). */
    public GgufWriter putString(String key, String value) {
        return put(key, new Value(GgufValues.STRING, -1, value));
    }

    /** Sets metadata {@code key} to a uint32 value (replacing an earlier value of the key). */
    public GgufWriter putUInt32(String key, int value) {
        return put(key, new Value(GgufValues.UINT32, -1, value));
    }

    /** Sets metadata {@code key} to a float32 value (replacing an earlier value of the key). */
    public GgufWriter putFloat32(String key, float value) {
        return put(key, new Value(GgufValues.FLOAT32, -1, value));
    }

    /** Sets metadata {@code key} to a bool value (replacing an earlier value of the key). */
    public GgufWriter putBool(String key, boolean value) {
        return put(key, new Value(GgufValues.BOOL, -1, value));
    }

    /** Sets metadata {@code key} to an array of strings (replacing an earlier value of the key). */
    public GgufWriter putStrings(String key, String[] values) {
        return put(key, new Value(GgufValues.ARRAY, GgufValues.STRING, values.clone()));
    }

    /** Sets metadata {@code key} to an array of float32 (replacing an earlier value of the key). */
    public GgufWriter putFloat32s(String key, float[] values) {
        return put(key, new Value(GgufValues.ARRAY, GgufValues.FLOAT32, values.clone()));
    }

    /** Sets metadata {@code key} to an array of int32 (replacing an earlier value of the key). */
    public GgufWriter putInt32s(String key, int[] values) {
        return put(key, new Value(GgufValues.ARRAY, GgufValues.INT32, values.clone()));
    }

    /** Adds a tensor with dims innermost first (ggml order), its elements from {@code source}. */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, TensorSource source) {
        long elements = 1;
        for (long d : dims) {
            if (d <= 0) {
                throw new IllegalArgumentException("tensor '" + name + "': dim=" + d + " must be > 0");
            }
            elements = Math.multiplyExact(elements, d);
        }
        if (dims.length < 1 || dims.length > 4 || dims[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "': dims=" + java.util.Arrays.toString(dims)
                    + " need 1..4 dims and a row length that is a multiple of the " + type + " block size");
        }
        tensors.add(new Tensor(name, type, dims.clone(), elements, source));
        return this;
    }

    /** Adds a tensor from an array holding all its elements. */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, float[] values) {
        return addTensor(name, type, dims, (offset, dst, n) -> System.arraycopy(values, (int) offset, dst, 0, n));
    }

    /** Writes the file, replacing any existing one. */
    public void write(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            Out out = new Out(ch);
            out.i32(GgufFile.MAGIC);
            out.i32(GgufFile.VERSION);
            out.i64(tensors.size());
            out.i64(metadata.size());
            for (Map.Entry<String, Value> e : metadata.entrySet()) {
                out.string(e.getKey());
                out.i32(e.getValue().type());
                writeValue(out, e.getValue());
            }
            long offset = 0;
            for (Tensor t : tensors) {
                out.string(t.name());
                out.i32(t.dims().length);
                for (long d : t.dims()) {
                    out.i64(d);
                }
                out.i32(t.type().id());
                out.i64(offset);
                offset = GgufFile.alignUp(offset + t.type().byteSizeFor(t.elements()), alignment);
            }
            out.padTo(alignment);
            float[] chunk = new float[CHUNK];
            for (Tensor t : tensors) {
                for (long done = 0; done < t.elements(); ) {
                    int n = (int) Math.min(CHUNK, t.elements() - done);
                    t.source().fill(done, chunk, n);
                    out.reserve(t.type().byteSizeFor(n));
                    Quantizer.encode(t.type(), chunk, n, out.buffer);
                    done += n;
                }
                out.padTo(alignment);
            }
            out.flush();
        }
    }

    private GgufWriter put(String key, Value v) {
        metadata.put(key, v);
        return this;
    }

    private static void writeValue(Out out, Value v) throws IOException {
        switch (v.type()) {
            case GgufValues.STRING -> out.string((String) v.value());
            case GgufValues.UINT32 -> out.i32((Integer) v.value());
            case GgufValues.FLOAT32 -> out.f32((Float) v.value());
            case GgufValues.BOOL -> out.u8((Boolean) v.value() ? 1 : 0);
            default -> {
                out.i32(v.elementType());
                switch (v.elementType()) {
                    case GgufValues.STRING -> {
                        String[] a = (String[]) v.value();
                        out.i64(a.length);
                        for (String s : a) {
                            out.string(s);
                        }
                    }
                    case GgufValues.FLOAT32 -> {
                        float[] a = (float[]) v.value();
                        out.i64(a.length);
                        for (float f : a) {
                            out.f32(f);
                        }
                    }
                    default -> {
                        int[] a = (int[]) v.value();
                        out.i64(a.length);
                        for (int i : a) {
                            out.i32(i);
                        }
                    }
                }
            }
        }
    }

    /** Little-endian buffered output that tracks the file position. */
    private static final class Out {
        private final FileChannel ch;
        final ByteBuffer buffer = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        private long flushed;

        Out(FileChannel ch) {
            this.ch = ch;
        }

        void reserve(long bytes) throws IOException {
            if (buffer.remaining() < bytes) {
                flush();
            }
        }

        void u8(int v) throws IOException {
            reserve(1);
            buffer.put((byte) v);
        }

        void i32(int v) throws IOException {
            reserve(4);
            buffer.putInt(v);
        }

        void i64(long v) throws IOException {
            reserve(8);
            buffer.putLong(v);
        }

        void f32(float v) throws IOException {
            reserve(4);
            buffer.putFloat(v);
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            for (int i = 0; i < b.length; ) {
                reserve(1);
                int n = Math.min(b.length - i, buffer.remaining());
                buffer.put(b, i, n);
                i += n;
            }
        }

        void padTo(int alignment) throws IOException {
            long pos = flushed + buffer.position();
            for (long p = pos; p < GgufFile.alignUp(pos, alignment); p++) {
                u8(0);
            }
        }

        void flush() throws IOException {
            buffer.flip();
            while (buffer.hasRemaining()) {
                flushed += ch.write(buffer);
            }
            buffer.clear();
        }
    }
}
