package dev.icecache.operators.state;

import java.io.IOException;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Serializer of {@link PagePatch}.
 *
 * <pre>
 *   format v1 (big-endian, as Flink's data views):
 *     int  validRows    0 ..= PageSerializer.MAX_ROWS
 *     int  slots        bits below min(validRows, PagePatch.MAX_SLOTS)
 *     the patched rows as a page in PageSerializer's current format (v2), bitCount(slots) rows
 * </pre>
 *
 * Counts are checked before anything is allocated: a corrupt checkpoint fails with an
 * {@link IOException} naming the field.
 */
public final class PagePatchSerializer extends TypeSerializer<PagePatch> {

    private static final long serialVersionUID = 1L;

    /** The serializer of the current format (v1); stateless and thread-safe. */
    public static final PagePatchSerializer INSTANCE = new PagePatchSerializer();

    private static final PagePatch EMPTY = new PagePatch(0, 0, new StoredPage(0, 1, new float[0]));

    private PagePatchSerializer() {
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TypeSerializer<PagePatch> duplicate() {
        return this;
    }

    @Override
    public PagePatch createInstance() {
        return EMPTY;
    }

    @Override
    public PagePatch copy(PagePatch from) {
        return new PagePatch(from.validRows(), from.slots(), PageSerializer.INSTANCE.copy(from.rows()));
    }

    @Override
    public PagePatch copy(PagePatch from, PagePatch reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(PagePatch patch, DataOutputView target) throws IOException {
        target.writeInt(patch.validRows());
        target.writeInt(patch.slots());
        PageSerializer.INSTANCE.serialize(patch.rows(), target);
    }

    @Override
    public PagePatch deserialize(DataInputView source) throws IOException {
        int validRows = source.readInt();
        int slots = source.readInt();
        checkHeader(validRows, slots);
        StoredPage rows = PageSerializer.INSTANCE.deserialize(source);
        if (rows.validRows() != Integer.bitCount(slots)) {
            throw new IOException("stored page patch names " + Integer.bitCount(slots) + " rows but holds "
                    + rows.validRows() + "; the state is corrupt");
        }
        return new PagePatch(validRows, slots, rows);
    }

    @Override
    public PagePatch deserialize(PagePatch reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        int validRows = source.readInt();
        int slots = source.readInt();
        checkHeader(validRows, slots);
        target.writeInt(validRows);
        target.writeInt(slots);
        PageSerializer.INSTANCE.copy(source, target);
    }

    private static void checkHeader(int validRows, int slots) throws IOException {
        if (validRows < 0 || validRows > PageSerializer.MAX_ROWS) {
            throw new IOException("stored page patch field validRows=" + validRows + " outside [0, "
                    + PageSerializer.MAX_ROWS + "]; the state is corrupt or was written by an incompatible version");
        }
        if ((slots & ~PagePatch.slotsBelow(validRows)) != 0) {
            throw new IOException("stored page patch field slots=0x" + Integer.toHexString(slots)
                    + " names rows at or past validRows=" + validRows + "; the state is corrupt");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PagePatchSerializer;
    }

    @Override
    public int hashCode() {
        return PagePatchSerializer.class.hashCode();
    }

    @Override
    public TypeSerializerSnapshot<PagePatch> snapshotConfiguration() {
        return new PagePatchSerializerSnapshot();
    }

    /**
     * Snapshot of {@link PagePatchSerializer}: no parameters, only the version (1). A later format
     * bumps {@link #CURRENT_VERSION} and keeps reading the older ones.
     */
    public static final class PagePatchSerializerSnapshot implements TypeSerializerSnapshot<PagePatch> {

        /** The patch format this code writes. */
        public static final int CURRENT_VERSION = 1;

        @Override
        public int getCurrentVersion() {
            return CURRENT_VERSION;
        }

        @Override
        public void writeSnapshot(DataOutputView out) {
            // no parameters
        }

        @Override
        public void readSnapshot(int readVersion, DataInputView in, ClassLoader userCodeClassLoader)
                throws IOException {
            if (readVersion != CURRENT_VERSION) {
                throw new IOException("page patch serializer snapshot version=" + readVersion + " is unknown to this"
                        + " build (reads " + CURRENT_VERSION + "); restore with the build that wrote the state or newer");
            }
        }

        @Override
        public TypeSerializer<PagePatch> restoreSerializer() {
            return INSTANCE;
        }

        @Override
        public TypeSerializerSchemaCompatibility<PagePatch> resolveSchemaCompatibility(
                TypeSerializerSnapshot<PagePatch> oldSerializerSnapshot) {
            return oldSerializerSnapshot instanceof PagePatchSerializerSnapshot
                    ? TypeSerializerSchemaCompatibility.compatibleAsIs()
                    : TypeSerializerSchemaCompatibility.incompatible();
        }
    }
}
