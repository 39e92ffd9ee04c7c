package dev.icecache.operators.state;

import dev.icecache.kvcache.page.PageFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Serializer of {@link StoredPage}, the hot and large state type (one entry per KV page).
 *
 * <pre>
 *   format v2 (written now; big-endian, as Flink's data views):
 *     int   validRows      0 ..= MAX_ROWS
 *     int   headDim        1 ..= MAX_HEAD_DIM
 *     byte  format code    PageFormat.code: 0 F32, 1 BF16
 *     rows[2 * validRows * headDim]   F32: 4 bytes a value; BF16: 2 bytes (the upper half of the
 *                                     float bits); one byte[] block
 *   format v1 (read only, state written before BF16 was 2 bytes):
 *     int validRows, int headDim, float rows[2 * validRows * headDim]   (an F32 page)
 * </pre>
 *
 * Which format a stream holds is the version of the {@link PageSerializerSnapshot} Flink saved
 * beside it: a v1 snapshot restores {@link #V1}, which reads v1, and Flink migrates the state to
 * v2 ("compatible after migration"). Every count is checked before anything is allocated, so a
 * corrupt checkpoint fails with an {@link IOException} naming the field instead of an
 * out-of-memory error. The values go in one bulk write, about twice as fast as a POJO with a
 * float[] field (stack.md §3).
 */
public final class PageSerializer extends TypeSerializer<StoredPage> {

    private static final long serialVersionUID = 2L;

    /** The serializer of the current format (v2); stateless and thread-safe. */
    public static final PageSerializer INSTANCE = new PageSerializer(2);

    /** The serializer of format v1, for state written by earlier versions (reads and writes v1, F32 only). */
    public static final PageSerializer V1 = new PageSerializer(1);

    /** Largest row count accepted from a stream (pages hold 16 rows; leave room for larger pages). */
    public static final int MAX_ROWS = 4096;

    /** Largest head dimension accepted from a stream. */
    public static final int MAX_HEAD_DIM = 1024;

    private static final StoredPage EMPTY = new StoredPage(0, 1, new float[0]);

    private final int version;

    private PageSerializer(int version) {
        this.version = version;
    }

    /** The format version this instance reads and writes. */
    public int version() {
        return version;
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TypeSerializer<StoredPage> duplicate() {
        return this;
    }

    @Override
    public StoredPage createInstance() {
        return EMPTY;
    }

    @Override
    public StoredPage copy(StoredPage from) {
        return new StoredPage(from.validRows(), from.headDim(), from.rows().clone(), from.format());
    }

    @Override
    public StoredPage copy(StoredPage from, StoredPage reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(StoredPage page, DataOutputView target) throws IOException {
        target.writeInt(page.validRows());
        target.writeInt(page.headDim());
        float[] rows = page.rows();
        if (version == 1) {
            if (page.format() != PageFormat.F32) {
                throw new IOException("page serializer v1 stores F32 pages only, got " + page.format());
            }
        } else {
            target.writeByte(page.format().code());
        }
        byte[] bytes = new byte[Math.multiplyExact(rows.length, page.format().bytesPerFloat())];
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
        if (page.format() == PageFormat.F32) {
            b.asFloatBuffer().put(rows);
        } else {
            for (float f : rows) {
                b.putShort(PageFormat.narrow(f));
            }
        }
        target.write(bytes);
    }

    @Override
    public StoredPage deserialize(DataInputView source) throws IOException {
        int validRows = source.readInt();
        int headDim = source.readInt();
        int floats = checkedFloatCount(validRows, headDim);
        PageFormat format = readFormat(source);
        byte[] bytes = new byte[floats * format.bytesPerFloat()];
        source.readFully(bytes);
        float[] rows = new float[floats];
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
        if (format == PageFormat.F32) {
            b.asFloatBuffer().get(rows);
        } else {
            for (int i = 0; i < floats; i++) {
                rows[i] = PageFormat.widen(b.getShort());
            }
        }
        return new StoredPage(validRows, headDim, rows, format);
    }

    @Override
    public StoredPage deserialize(StoredPage reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        int validRows = source.readInt();
        int headDim = source.readInt();
        int floats = checkedFloatCount(validRows, headDim);
        PageFormat format = readFormat(source);
        target.writeInt(validRows);
        target.writeInt(headDim);
        if (version != 1) {
            target.writeByte(format.code());
        }
        target.write(source, floats * format.bytesPerFloat());
    }

    private PageFormat readFormat(DataInputView source) throws IOException {
        if (version == 1) {
            return PageFormat.F32;
        }
        int code = source.readUnsignedByte();
        try {
            return PageFormat.ofCode(code);
        } catch (IllegalArgumentException e) {
            throw new IOException("stored page field format=" + code + " is unknown (0 F32, 1 BF16); the state is"
                    + " corrupt or was written by a newer version", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PageSerializer p && p.version == version;
    }

    @Override
    public int hashCode() {
        return PageSerializer.class.hashCode() * 31 + version;
    }

    @Override
    public TypeSerializerSnapshot<StoredPage> snapshotConfiguration() {
        return new PageSerializerSnapshot(version);
    }

    private static int checkedFloatCount(int validRows, int headDim) throws IOException {
        if (validRows < 0 || validRows > MAX_ROWS) {
            throw new IOException("stored page field validRows=" + validRows + " outside [0, " + MAX_ROWS
                    + "]; the state is corrupt or was written by an incompatible version");
        }
        if (headDim < 1 || headDim > MAX_HEAD_DIM) {
            throw new IOException("stored page field headDim=" + headDim + " outside [1, " + MAX_HEAD_DIM
                    + "]; the state is corrupt or was written by an incompatible version");
        }
        return 2 * validRows * headDim; // at most 2 * 4096 * 1024 floats: fits an int and a byte[]
    }

    /**
     * Snapshot of {@link PageSerializer}: it has no parameters, so only its version is written
     * (by Flink, around {@link #writeSnapshot}); the version is the page format of the state.
     * Version 2 is the current format; version 1 restores {@link PageSerializer#V1} and resolves
     * as "compatible after migration", so Flink rewrites v1 state in v2. A later format bumps
     * {@link #CURRENT_VERSION}, keeps reading every older version and adds a golden file under
     * {@code src/test/resources/golden/}.
     */
    public static final class PageSerializerSnapshot implements TypeSerializerSnapshot<StoredPage> {

        /** The page format this code writes. */
        public static final int CURRENT_VERSION = 2;

        private int readVersion;

        /** Used by Flink when reading a snapshot back. */
        public PageSerializerSnapshot() {
            this(CURRENT_VERSION);
        }

        PageSerializerSnapshot(int version) {
            this.readVersion = version;
        }

        @Override
        public int getCurrentVersion() {
            return readVersion;
        }

        @Override
        public void writeSnapshot(DataOutputView out) {
            // no parameters: the version Flink writes is the whole snapshot
        }

        @Override
        public void readSnapshot(int readVersion, DataInputView in, ClassLoader userCodeClassLoader)
                throws IOException {
            if (readVersion < 1 || readVersion > CURRENT_VERSION) {
                throw new IOException("page serializer snapshot version=" + readVersion + " is unknown to this build"
                        + " (reads 1.." + CURRENT_VERSION + "); restore with the build that wrote the state or newer");
            }
            this.readVersion = readVersion;
        }

        /** The page format version of the state this snapshot describes. */
        public int readVersion() {
            return readVersion;
        }

        @Override
        public TypeSerializer<StoredPage> restoreSerializer() {
            return readVersion == 1 ? V1 : INSTANCE;
        }

        @Override
        public TypeSerializerSchemaCompatibility<StoredPage> resolveSchemaCompatibility(
                TypeSerializerSnapshot<StoredPage> oldSerializerSnapshot) {
            if (!(oldSerializerSnapshot instanceof PageSerializerSnapshot old)) {
                return TypeSerializerSchemaCompatibility.incompatible();
            }
            return old.readVersion == readVersion ? TypeSerializerSchemaCompatibility.compatibleAsIs()
                    : TypeSerializerSchemaCompatibility.compatibleAfterMigration();
        }
    }
}
