package dev.icecache.operators.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Serializer of {@link StoredPage}, the hot and large state type (one entry per KV page).
 *
 * <pre>
 *   format v1 (big-endian, as Flink's data views):
 *     int   validRows      0 ..= MAX_ROWS
 *     int   headDim        1 ..= MAX_HEAD_DIM
 *     float rows[2 * validRows * headDim]   written as one byte[] block
 * </pre>
 *
 * Every count is checked before anything is allocated, so a corrupt checkpoint fails with an
 * {@link IOException} naming the field instead of an out-of-memory error. The floats go in
 * one bulk write, about twice as fast as a POJO with a float[] field (stack.md §3).
 */
public final class PageSerializer extends TypeSerializerSingleton<StoredPage> {

    private static final long serialVersionUID = 1L;

    /** The one instance; the serializer is stateless and thread-safe. */
    public static final PageSerializer INSTANCE = new PageSerializer();

    /** Largest row count accepted from a stream (pages hold 16 rows; leave room for larger pages). */
    public static final int MAX_ROWS = 4096;

    /** Largest head dimension accepted from a stream. */
    public static final int MAX_HEAD_DIM = 1024;

    private static final StoredPage EMPTY = new StoredPage(0, 1, new float[0]);

    private PageSerializer() {
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public StoredPage createInstance() {
        return EMPTY;
    }

    @Override
    public StoredPage copy(StoredPage from) {
        return new StoredPage(from.validRows(), from.headDim(), from.rows().clone());
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
        byte[] bytes = new byte[Math.multiplyExact(rows.length, Float.BYTES)];
        ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN).asFloatBuffer().put(rows);
        target.write(bytes);
    }

    @Override
    public StoredPage deserialize(DataInputView source) throws IOException {
        int validRows = source.readInt();
        int headDim = source.readInt();
        int floats = checkedFloatCount(validRows, headDim);
        byte[] bytes = new byte[floats * Float.BYTES];
        source.readFully(bytes);
        float[] rows = new float[floats];
        ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN).asFloatBuffer().get(rows);
        return new StoredPage(validRows, headDim, rows);
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
        target.writeInt(validRows);
        target.writeInt(headDim);
        target.write(source, floats * Float.BYTES);
    }

    @Override
    public TypeSerializerSnapshot<StoredPage> snapshotConfiguration() {
        return new PageSerializerSnapshot();
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
     * Snapshot of {@link PageSerializer}: it has no parameters, so only its version is
     * written (by Flink, around {@link #writeSnapshot}). Version 1 is the format in the class
     * comment; a later format bumps {@link #CURRENT_VERSION}, keeps reading every older
     * version, answers "compatible after migration" for them, and adds a golden file under
     * {@code src/test/resources/golden/}.
     */
    public static final class PageSerializerSnapshot implements TypeSerializerSnapshot<StoredPage> {

        /** The page format this code writes. */
        public static final int CURRENT_VERSION = 1;

        /** Used by Flink when reading a snapshot back, and by {@link #snapshotConfiguration()}. */
        public PageSerializerSnapshot() {
        }

        @Override
        public int getCurrentVersion() {
            return CURRENT_VERSION;
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
        }

        @Override
        public TypeSerializer<StoredPage> restoreSerializer() {
            return INSTANCE;
        }

        @Override
        public TypeSerializerSchemaCompatibility<StoredPage> resolveSchemaCompatibility(
                TypeSerializerSnapshot<StoredPage> oldSerializerSnapshot) {
            return oldSerializerSnapshot instanceof PageSerializerSnapshot
                    ? TypeSerializerSchemaCompatibility.compatibleAsIs()
                    : TypeSerializerSchemaCompatibility.incompatible();
        }
    }
}
