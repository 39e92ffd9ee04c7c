package dev.icecache.kvcache.tree;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.IntFunction;

/**
 * Snapshot cells of a {@link DciTree}: compact versioned bytes per cell (ids in
 * {@link DirtyCells}), written with {@link DataOutputStream} (big-endian), no Java serialization.
 *
 * <pre>
 *   every cell     byte VERSION, byte kind
 *   HEADER         int headDim, int leafCapacity, double p0, double p1, int exactParentThreshold,
 *                  int anchorInterval, int size, int top, double M^2, int pageIdLimit,
 *                  int freeCount, int[freeCount] free ids (in free-list order)
 *   NODE_CHUNK     v2: int chunkNo, int count, count x (int token, byte level, float scale,
 *                      byte[headDim] codes)   (the compact key, CompactKeys; count = DirtyCells.CHUNK
 *                      nodes but in the last chunk)
 *                  v1: int chunkNo, int count, count x (int token, byte level, float[headDim] key)
 *                      (read only: 256 nodes a chunk; the key is quantized on restore)
 *   CHILD_INDEX    int owner (-1 = root), double cellM2, double maxChildDistance, int childCount,
 *                  int leafCount, leafCount x (int page, byte rows, rows x int node)
 * </pre>
 *
 * Cells of v1 (float32 keys) still restore; header and child-index cells are the same in both.
 * Derived data is not stored: projections are recomputed from keys and cellM2 (the same double
 * arithmetic, so the same values), parents from the cell that lists a node, promotion counts
 * from the levels. Restore treats the bytes as untrusted and checks every count, id and
 * cross-reference before use.
 */
final class TreeSnapshot {

    /**
     * Format version written in every cell: compact keys and node chunks of {@link DirtyCells#CHUNK}.
     * Restore also reads version 1 (float keys, chunks of 256 nodes); a tree restored from version 1
     * marks all its cells dirty, so its next snapshot rewrites the whole tree in this version.
     */
    static final byte VERSION = 2;
    /** The first version: node chunks of 256 nodes held float32 keys. */
    static final byte VERSION_FLOAT_KEYS = 1;
    /** The oldest version restore reads. */
    static final byte OLDEST_VERSION = VERSION_FLOAT_KEYS;

    private TreeSnapshot() {
    }

    static byte[] write(DciTree tree, int cell) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeByte(DirtyCells.kind(cell));
            switch (DirtyCells.kind(cell)) {
                case DirtyCells.HEADER -> writeHeader(tree, cell, out);
                case DirtyCells.KIND_CHUNK -> writeChunk(tree, DirtyCells.index(cell), out);
                case DirtyCells.KIND_CHILD_INDEX -> writeChildIndex(tree, DirtyCells.index(cell) - 1, out);
                default -> throw new IllegalArgumentException("cell=" + cell + " is not a tree cell id");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing tree cell=" + cell + " to memory failed", e);
        }
        return bytes.toByteArray();
    }

    private static void writeHeader(DciTree tree, int cell, DataOutputStream out) throws IOException {
        if (cell != DirtyCells.HEADER) {
            throw new IllegalArgumentException("cell=" + cell + " is not a tree cell id");
        }
        TreeCore core = tree.core;
        DciParams p = core.params;
        out.writeInt(core.headDim);
        out.writeInt(p.leafCapacity());
        out.writeDouble(p.p0());
        out.writeDouble(p.p1());
        out.writeInt(p.exactParentThreshold());
        out.writeInt(p.anchorInterval());
        out.writeInt(core.nodes.size);
        out.writeInt(tree.top);
        out.writeDouble(core.mips.m2());
        out.writeInt(core.pages.limit());
        out.writeInt(core.pages.freeCount());
        for (int i = 0; i < core.pages.freeCount(); i++) {
            out.writeInt(core.pages.freeId(i));
        }
    }

    private static void writeChunk(DciTree tree, int chunkNo, DataOutputStream out) throws IOException {
        Nodes nodes = tree.core.nodes;
        long first = (long) chunkNo * DirtyCells.CHUNK;
        if (first >= nodes.size) {
            throw new IllegalArgumentException("node chunk=" + chunkNo + " is beyond size=" + nodes.size);
        }
        int count = (int) Math.min(DirtyCells.CHUNK, nodes.size - first);
        out.writeInt(chunkNo);
        out.writeInt(count);
        for (int x = (int) first; x < first + count; x++) {
            out.writeInt(nodes.token(x));
            out.writeByte(nodes.level[x]);
            out.writeFloat(nodes.scale[x]);
            out.write(nodes.codes, nodes.keyOff(x), nodes.headDim);
        }
    }

    private static void writeChildIndex(DciTree tree, int owner, DataOutputStream out) throws IOException {
        if (owner != Nodes.ROOT && (owner >= tree.core.nodes.size || tree.cellOf(owner) == null)) {
            throw new IllegalArgumentException("child index of node=" + owner + " does not exist");
        }
        ChildIndex cell = tree.cell(owner);
        LeafPages pages = tree.core.pages;
        out.writeInt(owner);
        out.writeDouble(cell.cellM2());
        out.writeDouble(owner == Nodes.ROOT ? 0.0 : tree.finder.maxChildDistance(owner));
        out.writeInt(cell.childCount());
        out.writeInt(cell.leafCount());
        for (int j = 0; j < cell.leafCount(); j++) {
            int page = cell.leaf(j);
            out.writeInt(page);
            out.writeByte(pages.rowCount(page));
            for (int s = 0; s < pages.rowCount(page); s++) {
                out.writeInt(pages.node(page, s));
            }
        }
    }

    static DciTree restore(int headDim, DciParams params, Projection projection, IntFunction<byte[]> cells) {
        SnapshotReader reader = new SnapshotReader(headDim, params, projection, cells);
        return reader.read();
    }

    /** The version byte of a cell's bytes (checked when the cell is opened). */
    static int version(byte[] cell) {
        return cell == null || cell.length == 0 ? -1 : cell[0];
    }

    /** Opens a cell's bytes for reading after checking its version and kind. */
    static DataInputStream open(IntFunction<byte[]> cells, int cell) throws IOException {
        byte[] bytes = cells.apply(cell);
        if (bytes == null) {
            throw new IllegalArgumentException("tree snapshot cell=" + cell + " is missing; pass every cell the tree listed");
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        int version = in.readByte();
        int kind = in.readByte();
        if (version < OLDEST_VERSION || version > VERSION) {
            throw new IllegalArgumentException("tree snapshot cell=" + cell + " has version=" + version
                    + "; this build reads versions " + OLDEST_VERSION + " to " + VERSION);
        }
        if (kind != DirtyCells.kind(cell)) {
            throw new IllegalArgumentException("tree snapshot cell=" + cell + " has kind=" + kind
                    + " expected=" + DirtyCells.kind(cell) + "; cell bytes mixed up");
        }
        return in;
    }
}
