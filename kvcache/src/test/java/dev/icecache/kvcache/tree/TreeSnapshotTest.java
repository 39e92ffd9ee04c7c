package dev.icecache.kvcache.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TreeSnapshotTest {

    private static final int D = 8;

    private static Map<Integer, byte[]> snapshot(DciTree tree) {
        Map<Integer, byte[]> cells = new HashMap<>();
        int[] ids = new int[tree.dirtyCellCount()];
        int n = tree.drainDirtyCells(ids);
        for (int i = 0; i < n; i++) {
            cells.put(ids[i], tree.cellBytes(ids[i]));
        }
        return cells;
    }

    private static DciTree grown(long seed, int n) {
        SplittableRandom rnd = new SplittableRandom(seed);
        DciTree tree = new DciTree(D, DciParams.defaults(), new Projection(D, new SplittableRandom(5)));
        float[] keys = TreeKeys.clustered(n, D, rnd);
        for (int i = 0; i < n; i += 50) {
            tree.add(keys, i * D, TreeKeys.positions(n, 0), i, Math.min(50, n - i));
        }
        return tree;
    }

    @Test
    void shouldRestoreAnEmptyTree() {
        DciTree empty = new DciTree(D, DciParams.defaults(), new Projection(D, new SplittableRandom(5)));
        DciTree back = DciTree.restore(D, DciParams.defaults(), new Projection(D, new SplittableRandom(5)), snapshot(empty)::get);
        back.checkInvariants();
        assertEquals(0, back.size());
        assertEquals(0, back.dirtyCellCount());
    }

    @Test
    void shouldGrowIdenticallyAfterRestore() {
        DciTree tree = grown(3, 1500);
        int pending = tree.pendingMoves();
        tree.drainMoves(new int[pending], new int[pending], new int[pending], new int[pending], new int[pending]);
        Map<Integer, byte[]> cells = snapshot(tree);
        DciTree back = DciTree.restore(D, DciParams.defaults(), new Projection(D, new SplittableRandom(5)), cells::get);
        float[] more = TreeKeys.clustered(700, D, new SplittableRandom(4));
        int[] tokens = TreeKeys.positions(700, 1500);
        tree.add(more, 0, tokens, 0, 700);
        back.add(more, 0, tokens, 0, 700);
        back.checkInvariants();
        assertEquals(tree.pendingMoves(), back.pendingMoves());
        int[] rowsA = new int[16];
        int[] rowsB = new int[16];
        assertEquals(tree.pageIdLimit(), back.pageIdLimit());
        for (int p = 0; p < tree.pageIdLimit(); p++) {
            assertEquals(tree.pageTokens(p, rowsA), back.pageTokens(p, rowsB), "page=" + p);
            assertArrayEquals(rowsA, rowsB, "page=" + p);
        }
    }

    @Test
    void shouldRejectAnotherVersion() {
        Map<Integer, byte[]> cells = snapshot(grown(6, 400));
        cells.get(DirtyCells.HEADER)[0] = 9;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DciTree.restore(D, DciParams.defaults(), new Projection(D, new SplittableRandom(5)), cells::get));
        assertTrue(e.getMessage().contains("version=9"), e.getMessage());
    }

    @Test
    void shouldRejectTruncatedCell() {
        Map<Integer, byte[]> cells = snapshot(grown(7, 400));
        int id = DirtyCells.childIndexId(Nodes.ROOT);
        cells.put(id, java.util.Arrays.copyOf(cells.get(id), cells.get(id).length - 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DciTree.restore(D, DciParams.defaults(), new Projection(D, new SplittableRandom(5)), cells::get));
        assertTrue(e.getMessage().contains("truncated or corrupt"), e.getMessage());
    }

    @Test
    void shouldRejectANodeListedTwice() {
        DciTree tree = grown(8, 400);
        Map<Integer, byte[]> cells = snapshot(tree);
        // the first two pages of the root's cell both claim the first row of page one
        byte[] root = cells.get(DirtyCells.childIndexId(Nodes.ROOT));
        int firstRow = 2 + 4 + 8 + 8 + 4 + 4 + 4 + 1; // version, kind, owner, cellM2, maxChild, children, leaves, page, rows
        int secondRow = firstRow + 4;
        System.arraycopy(root, firstRow, root, secondRow, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DciTree.restore(D, DciParams.defaults(), new Projection(D, new SplittableRandom(5)), cells::get));
        assertTrue(e.getMessage().startsWith("tree snapshot corrupt"), e.getMessage());
    }

    @Test
    void shouldRejectOtherBuildParameters() {
        Map<Integer, byte[]> cells = snapshot(grown(9, 300));
        DciParams other = new DciParams(0.02, 0.2, 16, 3000, 60, 0.8, 30, 0.0015, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DciTree.restore(D, other, new Projection(D, new SplittableRandom(5)), cells::get));
        assertTrue(e.getMessage().contains("params differ"), e.getMessage());
    }

    @Test
    void shouldRejectAMissingCell() {
        Map<Integer, byte[]> cells = snapshot(grown(10, 600));
        cells.remove(DirtyCells.chunkId(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DciTree.restore(D, DciParams.defaults(), new Projection(D, new SplittableRandom(5)), cells::get));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void shouldStartEveryCellWithTheFormatVersion() {
        Map<Integer, byte[]> cells = snapshot(grown(11, 600));
        for (Map.Entry<Integer, byte[]> c : cells.entrySet()) {
            assertEquals(TreeSnapshot.VERSION, c.getValue()[0], "cell=" + c.getKey());
            assertEquals(DirtyCells.kind(c.getKey()), c.getValue()[1], "cell=" + c.getKey());
        }
    }

    @Test
    void shouldRestoreVersionOneCellsWithFloatKeysIntoTheSameCompactTree() throws java.io.IOException {
        int n = 1500;
        float[] keys = TreeKeys.clustered(n, D, new SplittableRandom(3));
        DciTree tree = grown(3, n);
        // the cells as version 1 wrote them: version byte 1, node chunks of 256 nodes with float32 keys
        Map<Integer, byte[]> v1 = asVersion1(snapshot(tree), tree.size(), keys);
        DciTree back = DciTree.restore(D, DciParams.defaults(), new Projection(D, new SplittableRandom(5)), v1::get);
        back.checkInvariants();
        // float keys quantize to the codes the tree holds, so the restored tree is the same tree (its
        // cells are marked dirty so that the next snapshot rewrites them in version 2)
        SplittableRandom rnd = new SplittableRandom(8);
        for (int t = 0; t < 20; t++) {
            float[] q = TreeKeys.gaussian(1, D, rnd);
            int[] a = new int[8];
            int[] b = new int[8];
            float[] sa = new float[8];
            float[] sb = new float[8];
            int na = tree.search(q, 0, 8, a, sa, null);
            assertEquals(na, back.search(q, 0, 8, b, sb, null));
            assertArrayEquals(a, b, "query " + t);
            assertArrayEquals(sa, sb, "query " + t);
        }
        for (int token = 0; token < n; token++) {
            assertEquals(tree.pageOf(token), back.pageOf(token));
            assertArrayEquals(tree.key(token, new float[D], 0), back.key(token, new float[D], 0));
        }
    }

    /** A v2 node chunk rewritten as v1: (token, level, float[D] key) per node, key = the original floats. */
    private static byte[] floatKeyChunk(byte[] v2, float[] keys) throws java.io.IOException {
        java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(v2));
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
        out.writeByte(in.readByte());
        out.writeByte(in.readByte());
        out.writeInt(in.readInt());
        int count = in.readInt();
        out.writeInt(count);
        for (int i = 0; i < count; i++) {
            int token = in.readInt();
            out.writeInt(token);
            out.writeByte(in.readByte());
            in.readFloat();
            in.readFully(new byte[D]);
            for (int j = 0; j < D; j++) {
                out.writeFloat(keys[token * D + j]);
            }
        }
        out.flush();
        return bytes.toByteArray();
    }

    @Test
    void shouldWriteEachNodeChunkOnceWhenPagesArriveOneByOne() {
        SplittableRandom rnd = new SplittableRandom(12);
        DciTree tree = new DciTree(D, DciParams.defaults(), new Projection(D, new SplittableRandom(5)));
        int n = 1600;
        float[] keys = TreeKeys.clustered(n, D, rnd);
        int[] tokens = TreeKeys.positions(n, 0);
        Map<Integer, Integer> writes = new HashMap<>();
        for (int i = 0; i < n; i += 16) {
            tree.add(keys, i * D, tokens, i, 16);
            int[] ids = new int[tree.dirtyCellCount()];
            int k = tree.drainDirtyCells(ids);
            int chunks = 0;
            for (int j = 0; j < k; j++) {
                if (DirtyCells.kind(ids[j]) == DirtyCells.KIND_CHUNK) {
                    writes.merge(ids[j], 1, Integer::sum);
                    chunks++;
                }
            }
            assertEquals(1, chunks, "one page of tokens dirties one node chunk (tokens " + i + "..)");
        }
        assertEquals(n / DirtyCells.CHUNK, writes.size());
        writes.forEach((cell, times) -> assertEquals(1, times, "chunk cell " + cell + " written more than once"));
    }

    /** The same tree's cells in version 1: node chunks of 256 nodes with float keys, version byte 1 in every cell. */
    private static Map<Integer, byte[]> asVersion1(Map<Integer, byte[]> v2, int size, float[] keys)
            throws java.io.IOException {
        Map<Integer, byte[]> v1 = new HashMap<>();
        for (Map.Entry<Integer, byte[]> e : v2.entrySet()) {
            if (DirtyCells.kind(e.getKey()) != DirtyCells.KIND_CHUNK) {
                byte[] b = e.getValue().clone();
                b[0] = 1;
                v1.put(e.getKey(), b);
            }
        }
        for (int c = 0; (long) c * DirtyCells.CHUNK_V1 < size; c++) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
            int count = Math.min(DirtyCells.CHUNK_V1, size - c * DirtyCells.CHUNK_V1);
            out.writeByte(1);
            out.writeByte(DirtyCells.KIND_CHUNK);
            out.writeInt(c);
            out.writeInt(count);
            for (int sub = c * DirtyCells.CHUNK_V1 / DirtyCells.CHUNK; sub * DirtyCells.CHUNK < c * DirtyCells.CHUNK_V1
                    + count; sub++) {
                byte[] cell = floatKeyChunk(v2.get(DirtyCells.chunkId(sub)), keys);
                out.write(cell, 10, cell.length - 10); // after version, kind, chunkNo, count
            }
            out.flush();
            v1.put(DirtyCells.chunkId(c), bytes.toByteArray());
        }
        return v1;
    }

    @Test
    void shouldRestoreVersion1CellsAndRewriteTheWholeTreeInVersion2() throws Exception {
        DciTree tree = grown(13, 1000);
        int pending = tree.pendingMoves();
        tree.drainMoves(new int[pending], new int[pending], new int[pending], new int[pending], new int[pending]);
        Map<Integer, byte[]> v2 = snapshot(tree);
        Map<Integer, byte[]> v1 = asVersion1(v2, tree.size(), TreeKeys.clustered(1000, D, new SplittableRandom(13)));
        DciTree back = DciTree.restore(D, DciParams.defaults(), new Projection(D, new SplittableRandom(5)), v1::get);
        back.checkInvariants();
        assertEquals(tree.size(), back.size());
        Map<Integer, byte[]> migrated = snapshot(back);
        assertEquals(v2.keySet(), migrated.keySet(), "every cell is rewritten, under the version 2 ids");
        for (Map.Entry<Integer, byte[]> e : v2.entrySet()) {
            assertArrayEquals(e.getValue(), migrated.get(e.getKey()), "cell=" + e.getKey());
        }
        DciTree again = DciTree.restore(D, DciParams.defaults(), new Projection(D, new SplittableRandom(5)),
                migrated::get);
        assertEquals(0, again.dirtyCellCount(), "a version 2 restore rewrites nothing");
    }
}
