package dev.icecache.job.inspect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** Level counting over node-chunk cells, and one-line errors for cells that do not fit. */
class TreeCellsTest {

    /** A node-chunk cell as version 1 of the tree snapshot wrote it (big-endian, float keys, kind 1). */
    private static byte[] chunk(int[] levels, int headDim) throws IOException {
        return chunk(levels, headDim, 1);
    }

    /** A node-chunk cell of {@code version}: 1 float keys, 2 a float scale and int8 codes. */
    private static byte[] chunk(int[] levels, int headDim, int version) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(version);
            out.writeByte(TreeCells.NODE_CHUNK);
            out.writeInt(7);
            out.writeInt(levels.length);
            for (int i = 0; i < levels.length; i++) {
                out.writeInt(1000 + i);
                out.writeByte(levels[i]);
                if (version == 2) {
                    out.writeFloat(0.25f);
                }
                for (int d = 0; d < headDim; d++) {
                    if (version == 2) {
                        out.writeByte(d - 8);
                    } else {
                        out.writeFloat(-0.5f * d);
                    }
                }
            }
        }
        return bytes.toByteArray();
    }

    @Test
    void shouldCountNodesPerLevelLikeABruteForceTally() throws IOException {
        for (long seed = 1; seed <= 20; seed++) {
            SplittableRandom r = new SplittableRandom(seed);
            int headDim = 1 + r.nextInt(16);
            int[] levels = new int[1 + r.nextInt(256)];
            long[] expected = new long[TreeCells.MAX_LEVELS];
            for (int i = 0; i < levels.length; i++) {
                levels[i] = r.nextInt(5);
                expected[levels[i]]++;
            }
            long[] counted = new long[TreeCells.MAX_LEVELS];
            assertEquals(levels.length, TreeCells.addLevels(chunk(levels, headDim), counted, "test"), "seed " + seed);
            assertArrayEquals(expected, counted, "seed " + seed);
            long[] compact = new long[TreeCells.MAX_LEVELS];
            assertEquals(levels.length, TreeCells.addLevels(chunk(levels, headDim, 2), compact, "test"), "seed " + seed);
            assertArrayEquals(expected, compact, "v2, seed " + seed);
        }
    }

    @Test
    void shouldReadVersion1CellsToo() throws IOException {
        byte[] v1 = chunk(new int[] {0, 1, 1}, 4);
        v1[0] = 1;
        long[] counted = new long[TreeCells.MAX_LEVELS];
        assertEquals(3, TreeCells.addLevels(v1, counted, "test"));
        assertEquals(2, counted[1]);
    }

    @Test
    void shouldRejectCellsThatDoNotFitTheFormat() throws IOException {
        byte[] good = chunk(new int[] {0, 1, 2}, 4);
        long[] levels = new long[TreeCells.MAX_LEVELS];
        byte[] truncated = Arrays.copyOf(good, good.length - 1);
        byte[] newer = good.clone();
        newer[0] = 3;
        byte[] older = good.clone();
        older[0] = 0;
        byte[] deep = chunk(new int[] {0, TreeCells.MAX_LEVELS}, 4);
        byte[] negativeCount = good.clone();
        negativeCount[6] = (byte) 0x80;
        for (byte[] bad : new byte[][] {truncated, newer, older, deep, negativeCount, new byte[3]}) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> TreeCells.addLevels(bad, levels, "cell=5 of document d"));
            assertTrue(e.getMessage().startsWith("index cell cell=5 of document d ") && !e.getMessage().contains("\n"),
                    e.getMessage());
        }
    }

    @Test
    void shouldTellTheKindFromTheCellIdsLowBits() {
        assertEquals(TreeCells.HEADER, TreeCells.kind(0));
        assertEquals(TreeCells.NODE_CHUNK, TreeCells.kind((3 << 2) | 1));
        assertEquals(TreeCells.CHILD_INDEX, TreeCells.kind((9 << 2) | 2));
    }
}
