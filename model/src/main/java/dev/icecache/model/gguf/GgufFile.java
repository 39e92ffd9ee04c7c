package dev.icecache.model.gguf;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.icecache.model.ModelFormatException;
import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.GgmlType;

/**
 * A parsed GGUF v3 file (spec: ggml's docs/gguf.md): header, metadata and tensor table; the
 * tensors themselves are memory-mapped on demand by {@link #mapTensors()}.
 *
 * <pre>
 *   u32 magic "GGUF" | u32 version (3) | u64 tensor_count | u64 kv_count
 *   kv_count   x (string key, u32 value_type, value)
 *   tensor_count x (string name, u32 n_dims, u64 dims[n_dims], u32 ggml_type, u64 offset)
 *   padding to general.alignment (default 32) | data section: tensors at their offsets
 * </pre>
 *
 * Every count, length, offset and size is checked in long arithmetic against the file size
 * before anything is allocated; a bad file gets a {@link ModelFormatException} naming the field.
 */
public final class GgufFile {

    /** "GGUF" read as a little-endian u32. */
    public static final int MAGIC = 0x46554747;
    static final int VERSION = 3;
    static final int DEFAULT_ALIGNMENT = 32;
    private static final int MAX_DIMS = 4;

    private final Path path;
    private final GgufMetadata metadata;
    private final Map<String, GgufTensorInfo> tensors;
    private final int alignment;
    private final long dataOffset;

    private GgufFile(Path path, GgufMetadata metadata, Map<String, GgufTensorInfo> tensors, int alignment, long dataOffset) {
        this.path = path;
        this.metadata = metadata;
        this.tensors = tensors;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
    }

    /** Parses the header, metadata and tensor table of {@code path} (no tensor data is read). */
    public static GgufFile read(Path path) throws IOException {
        String file = path.toString();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            ChannelReader in = new ChannelReader(channel, file);
            int magic = in.i32("GGUF magic");
            if (magic != MAGIC) {
                throw new ModelFormatException(file + ": not a GGUF file (magic=0x" + Integer.toHexString(magic)
                        + ", expected 0x" + Integer.toHexString(MAGIC) + " \"GGUF\")");
            }
            int version = in.i32("GGUF version");
            if (version != VERSION) {
                throw new ModelFormatException(file + ": GGUF version=" + version + " is not supported; only version "
                        + VERSION + " is read (convert the model with a recent llama.cpp)");
            }
            long tensorCount = in.i64("GGUF tensor_count");
            long kvCount = in.i64("GGUF kv_count");
            // smallest encodings: a tensor info is 8+4+8+4+8 bytes, a key/value 8+4+1 bytes
            checkCount(file, "tensor_count", tensorCount, in.remaining() / 32);
            checkCount(file, "kv_count", kvCount, in.remaining() / 13);
            GgufMetadata metadata = new GgufMetadata(file, readMetadata(in, file, kvCount));
            int alignment = metadata.getInt("general.alignment", DEFAULT_ALIGNMENT);
            if (alignment <= 0 || Integer.bitCount(alignment) != 1 || alignment > (1 << 20)) {
                throw new ModelFormatException(file + ": GGUF general.alignment=" + alignment
                        + " must be a power of two in [1, 1048576]; file corrupt");
            }
            List<GgufTensorInfo> infos = new ArrayList<>();
            for (long i = 0; i < tensorCount; i++) {
                infos.add(readTensorInfo(in, file, i));
            }
            long dataOffset = alignUp(in.position(), alignment);
            Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
            for (GgufTensorInfo t : infos) {
                checkPlacement(file, t, alignment, dataOffset, in.fileSize());
                if (byName.put(t.name(), t) != null) {
                    throw new ModelFormatException(file + ": GGUF tensor '" + t.name() + "' appears twice; file corrupt");
                }
            }
            return new GgufFile(path, metadata, Collections.unmodifiableMap(byName), alignment, dataOffset);
        }
    }

    public Path path() {
        return path;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    /** Tensor infos by name, in file order. */
    public Map<String, GgufTensorInfo> tensors() {
        return tensors;
    }

    public int alignment() {
        return alignment;
    }

    /** Absolute file offset of the data section. */
    public long dataOffset() {
        return dataOffset;
    }

    /**
     * Memory-maps every tensor (one read-only mapping each, valid after this returns; the
     * mappings are released when the tensors become unreachable).
     */
    public Map<String, FloatTensor> mapTensors() throws IOException {
        Map<String, FloatTensor> mapped = new LinkedHashMap<>();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            for (GgufTensorInfo t : tensors.values()) {
                if (t.byteSize() > Integer.MAX_VALUE) {
                    throw new ModelFormatException(path + ": GGUF tensor '" + t.name() + "' size=" + t.byteSize()
                            + " bytes exceeds the 2 GiB a Java 17 mapping can hold; use a smaller quantization");
                }
                MappedByteBuffer buffer = channel.map(FileChannel.MapMode.READ_ONLY, dataOffset + t.offset(), t.byteSize());
                buffer.order(ByteOrder.LITTLE_ENDIAN);
                mapped.put(t.name(), FloatTensor.of(t.name(), t.type(), buffer, t.elementCount()));
            }
        }
        return mapped;
    }

    private static LinkedHashMap<String, Object> readMetadata(ChannelReader in, String file, long kvCount) throws IOException {
        LinkedHashMap<String, Object> values = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = in.string("GGUF metadata key #" + i);
            int type = in.i32("GGUF metadata '" + key + "' type");
            Object value = GgufValues.read(in, file, key, type);
            if (values.put(key, value) != null) {
                throw new ModelFormatException(file + ": GGUF metadata key '" + key + "' appears twice; file corrupt");
            }
        }
        return values;
    }

    private static GgufTensorInfo readTensorInfo(ChannelReader in, String file, long index) throws IOException {
        String name = in.string("GGUF tensor #" + index + " name");
        String what = "GGUF tensor '" + name + "'";
        int nDims = in.i32(what + " n_dims");
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw new ModelFormatException(file + ": " + what + ": n_dims=" + nDims + " must be in [1, " + MAX_DIMS
                    + "]; file corrupt");
        }
        long[] dims = new long[nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++) {
            dims[d] = in.i64(what + " dim " + d);
            if (dims[d] <= 0) {
                throw new ModelFormatException(file + ": " + what + ": dim " + d + "=" + dims[d] + " must be > 0; file corrupt");
            }
            elements = multiply(file, what, elements, dims[d]);
        }
        int typeId = in.i32(what + " type");
        GgmlType type = GgmlType.byId(typeId);
        if (type == null) {
            throw new ModelFormatException(file + ": " + what + ": tensor type " + GgmlType.ggmlName(typeId) + " (id="
                    + typeId + ") is not supported; supported types: " + GgmlType.supportedNames() + " (requantize the model)");
        }
        if (dims[0] % type.blockSize() != 0) {
            throw new ModelFormatException(file + ": " + what + ": row length=" + dims[0] + " is not a multiple of the "
                    + type + " block size=" + type.blockSize() + "; file corrupt");
        }
        long offset = in.i64(what + " offset");
        return new GgufTensorInfo(name, dims, type, offset, elements, type.byteSizeFor(elements));
    }

    private static void checkPlacement(String file, GgufTensorInfo t, int alignment, long dataOffset, long fileSize)
            throws ModelFormatException {
        String what = "GGUF tensor '" + t.name() + "'";
        if (t.offset() < 0 || t.offset() % alignment != 0) {
            throw new ModelFormatException(file + ": " + what + ": offset=" + t.offset() + " is not a non-negative multiple "
                    + "of alignment=" + alignment + "; file corrupt");
        }
        long end = dataOffset + t.offset() + t.byteSize(); // each term < 2^63 / 4: no overflow
        if (t.offset() > fileSize || t.byteSize() > fileSize || end > fileSize) {
            throw new ModelFormatException(file + ": " + what + ": offset=" + (dataOffset + t.offset()) + " size="
                    + t.byteSize() + " exceeds file size=" + fileSize + "; file truncated or corrupt");
        }
    }

    private static long multiply(String file, String what, long a, long b) throws ModelFormatException {
        try {
            long n = Math.multiplyExact(a, b);
            if (n > (1L << 40)) {
                throw new ArithmeticException("too many elements");
            }
            return n;
        } catch (ArithmeticException e) {
            throw new ModelFormatException(file + ": " + what + ": element count overflows (dims too large); file corrupt", e);
        }
    }

    static void checkCount(String file, String field, long count, long max) throws ModelFormatException {
        if (count < 0 || count > max) {
            throw new ModelFormatException(file + ": GGUF " + field + "=" + Long.toUnsignedString(count)
                    + " exceeds what the file size allows (at most " + max + "); file truncated or corrupt");
        }
    }

    static long alignUp(long position, int alignment) {
        return (position + alignment - 1) / alignment * alignment;
    }
}
