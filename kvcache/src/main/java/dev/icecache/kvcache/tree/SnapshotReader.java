package dev.icecache.kvcache.tree;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.function.IntFunction;

/**
 * Reads the cells written by {@link TreeSnapshot} back into a tree, checking every count, id and
 * cross-reference before it is used (the bytes come from a state backend: untrusted).
 */
final class SnapshotReader {

    private final int headDim;
    private final DciParams params;
    private final Projection projection;
    private final IntFunction<byte[]> cells;
    private DciTree tree;
    private int size;
    private int top;
    private boolean[] pageUsed;
    private boolean[] placed;
    private int version;
    private int chunkNodes;

    SnapshotReader(int headDim, DciParams params, Projection projection, IntFunction<byte[]> cells) {
        this.headDim = headDim;
        this.params = params;
        this.projection = projection;
        this.cells = cells;
    }

    DciTree read() {
        if (cells == null) {
            throw new IllegalArgumentException("cells must not be null");
        }
        try {
            readHeader();
            for (int c = 0; (long) c * chunkNodes < size; c++) {
                readChunk(c);
            }
            readChildIndex(Nodes.ROOT);
            for (int x = 0; x < size; x++) {
                if (tree.core.nodes.level[x] > 0) {
                    readChildIndex(x);
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("tree snapshot is truncated or corrupt: " + e.getMessage(), e);
        }
        for (int x = 0; x < size; x++) {
            require(placed[x], "node=%d is in no page", x);
        }
        LeafPages pages = tree.core.pages;
        for (int i = 0; i < pages.freeCount(); i++) {
            int page = pages.freeId(i);
            require(!pageUsed[page], "page=%d is both free and in use", page);
            pageUsed[page] = true;
        }
        for (int page = 0; page < pages.limit(); page++) {
            require(pageUsed[page], "page=%d is neither free nor in use", page);
        }
        tree.core.pages.clearLogs();
        tree.core.dirty.drain(new int[tree.core.dirty.count()]);
        if (version < TreeSnapshot.VERSION) {
            // migrate: the next snapshot rewrites every cell in this version (chunk ids differ)
            tree.core.dirty.markHeader();
            tree.core.dirty.markAllChunks(size);
            tree.core.dirty.markChildIndex(Nodes.ROOT);
            for (int x = 0; x < size; x++) {
                if (tree.core.nodes.level[x] > 0) {
                    tree.core.dirty.markChildIndex(x);
                }
            }
        }
        return tree;
    }

    private void readHeader() throws IOException {
        DataInputStream in = TreeSnapshot.open(cells, DirtyCells.HEADER);
        version = TreeSnapshot.version(cells.apply(DirtyCells.HEADER));
        chunkNodes = version == 1 ? DirtyCells.CHUNK_V1 : DirtyCells.CHUNK;
        int d = in.readInt();
        int cap = in.readInt();
        double p0 = in.readDouble();
        double p1 = in.readDouble();
        int threshold = in.readInt();
        int interval = in.readInt();
        require(d == headDim, "headDim=%d but the tree was saved with headDim=%d", headDim, d);
        require(cap == params.leafCapacity() && p0 == params.p0() && p1 == params.p1()
                        && threshold == params.exactParentThreshold() && interval == params.anchorInterval(),
                "tree params differ from the saved ones (leafCapacity=%d p0=%s p1=%s exactParentThreshold=%d "
                        + "anchorInterval=%d); restore with the build parameters (search parameters may differ)",
                cap, p0, p1, threshold, interval);
        size = in.readInt();
        top = in.readInt();
        double m2 = in.readDouble();
        int limit = in.readInt();
        int freeCount = in.readInt();
        require(size >= 0 && size <= Nodes.MAX_NODES, "size=%d out of range", size);
        require(top >= 0 && top < DciTree.MAX_LEVELS && (size > 0 || top == 0), "top=%d out of range", top);
        require(Double.isFinite(m2) && m2 >= 0, "M^2=%s must be finite and >= 0", m2);
        require(limit >= 0 && limit <= size, "pageIdLimit=%d must be in [0, size=%d]", limit, size);
        require(freeCount >= 0 && freeCount <= limit, "freeCount=%d must be in [0, pageIdLimit=%d]", freeCount, limit);
        int[] free = new int[freeCount];
        for (int i = 0; i < freeCount; i++) {
            free[i] = in.readInt();
            require(free[i] >= 0 && free[i] < limit, "free page=%d out of range [0, %d)", free[i], limit);
        }
        tree = new DciTree(headDim, params, projection, m2);
        tree.core.nodes.ensureCapacity(size);
        tree.core.pages.restoreIds(limit, free, freeCount);
        pageUsed = new boolean[limit];
        placed = new boolean[size];
    }

    private void readChunk(int chunkNo) throws IOException {
        DataInputStream in = TreeSnapshot.open(cells, DirtyCells.chunkId(chunkNo));
        int version = cells.apply(DirtyCells.chunkId(chunkNo))[0];
        int no = in.readInt();
        int count = in.readInt();
        int expected = (int) Math.min(chunkNodes, size - (long) chunkNo * chunkNodes);
        require(no == chunkNo && count == expected, "node chunk=%d holds chunk=%d count=%d, expected count=%d",
                chunkNo, no, count, expected);
        Nodes nodes = tree.core.nodes;
        boolean floatKeys = version == TreeSnapshot.VERSION_FLOAT_KEYS;
        float[] key = new float[headDim];
        byte[] codes = new byte[headDim];
        for (int i = 0; i < count; i++) {
            int token = in.readInt();
            int level = in.readByte();
            float rowScale = 0f;
            if (floatKeys) {
                for (int j = 0; j < headDim; j++) {
                    key[j] = in.readFloat();
                    require(Float.isFinite(key[j]), "node chunk=%d has a non-finite key value", chunkNo);
                }
            } else {
                rowScale = in.readFloat();
                require(Float.isFinite(rowScale) && rowScale >= 0f, "node chunk=%d has key scale=%s", chunkNo, rowScale);
                in.readFully(codes);
                for (int j = 0; j < headDim; j++) {
                    require(codes[j] >= -CompactKeys.MAX_CODE, "node chunk=%d has key code=%d", chunkNo, codes[j]);
                }
            }
            require(nodes.size == 0 || token > nodes.token(nodes.size - 1), "token=%d out of order", token);
            require(token >= 0 && level >= 0 && level <= top, "token=%d level=%d out of range (top=%d)", token, level, top);
            int x = floatKeys ? nodes.append(token, key, 0, level) : nodes.appendCompact(token, codes, 0, rowScale, level);
            tree.level(level).add(x);
            for (int l = 0; l <= level; l++) {
                tree.atLeast[l]++;
            }
            if (level > 0) {
                tree.setCell(x, new ChildIndex(tree.core, x, 0.0));
            }
        }
        if (chunkNo == (size - 1) / chunkNodes) {
            require(tree.levelCount() - 1 == top, "top=%d but the highest level holding a node is %d",
                    top, tree.levelCount() - 1);
            tree.top = top;
        }
    }

    private void readChildIndex(int owner) throws IOException {
        DataInputStream in = TreeSnapshot.open(cells, DirtyCells.childIndexId(owner));
        require(in.readInt() == owner, "child index cell of node=%d names another owner", owner);
        double cellM2 = in.readDouble();
        double maxChild = in.readDouble();
        int childCount = in.readInt();
        int leafCount = in.readInt();
        int cap = params.leafCapacity();
        require(childCount >= 0 && childCount <= size && leafCount >= 0 && leafCount <= childCount,
                "child index of node=%d has childCount=%d leafCount=%d out of range", owner, childCount, leafCount);
        require(Double.isFinite(cellM2) && cellM2 <= tree.core.mips.m2() && Double.isFinite(maxChild),
                "child index of node=%d has cellM2=%s maxChildDistance=%s out of range", owner, cellM2, maxChild);
        int childLevel = owner == Nodes.ROOT ? top : tree.core.nodes.level[owner] - 1;
        int[] leaves = new int[leafCount];
        int[] members = new int[cap];
        int total = 0;
        Nodes nodes = tree.core.nodes;
        for (int j = 0; j < leafCount; j++) {
            int page = in.readInt();
            int rows = in.readByte();
            require(page >= 0 && page < pageUsed.length && !pageUsed[page], "page=%d out of range or listed twice", page);
            require(rows >= 1 && rows <= cap, "page=%d has rows=%d, must be in [1, %d]", page, rows, cap);
            pageUsed[page] = true;
            for (int s = 0; s < rows; s++) {
                int x = in.readInt();
                require(x >= 0 && x < size && !placed[x], "node=%d out of range or in two pages", x);
                require(nodes.level[x] == childLevel, "node=%d at level=%d cannot be a child at level=%d",
                        x, nodes.level[x], childLevel);
                placed[x] = true;
                members[s] = x;
                nodes.parent[x] = owner;
                nodes.proj[x] = tree.core.mips.keyProjection(nodes, x, cellM2);
            }
            tree.core.pages.restorePage(page, members, rows);
            leaves[j] = page;
            total += rows;
        }
        require(total == childCount, "child index of node=%d lists %d rows but childCount=%d", owner, total, childCount);
        ChildIndex cell = owner == Nodes.ROOT ? tree.root : tree.cellOf(owner);
        cell.restore(leaves, leafCount, childCount, cellM2);
        if (owner != Nodes.ROOT) {
            tree.finder.restoreMaxChildDistance(owner, maxChild);
        }
    }

    private static void require(boolean ok, String fmt, Object... args) {
        if (!ok) {
            throw new IllegalArgumentException("tree snapshot corrupt: " + String.format(fmt, args));
        }
    }
}
