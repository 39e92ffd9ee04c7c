package dev.icecache.job.inspect;

/**
 * Reads the little {@code inspect-state} needs from an IceCache index cell: its kind, and the
 * level of every node in a node-chunk cell. The cell format is kvcache's tree snapshot:
 *
 * <pre>
 *   cell id = (index &lt;&lt; 2) | kind      kind 0 header, 1 node chunk, 2 child index
 *   every cell:   byte version (1 or 2), byte kind
 *   node chunk v2: int chunkNo, int count, count x (int token, byte level, float scale, byte[headDim] codes)
 *   node chunk v1: int chunkNo, int count, count x (int token, byte level, float[headDim] key)
 * </pre>
 *
 * The bytes come from a file, so every count and offset is checked before use; a cell that
 * does not fit the format fails with a message naming the document and the cell.
 */
final class TreeCells {

    /** Kind of the header cell of a tree (one per tree). */
    static final int HEADER = 0;
    /** Kind of a cell listing up to 16 (version 1: 256) nodes with their levels. */
    static final int NODE_CHUNK = 1;
    /** Kind of a cell holding one parent's child index. */
    static final int CHILD_INDEX = 2;
    /** Tree levels counted; a level beyond this means a corrupt cell (trees are a few levels deep). */
    static final int MAX_LEVELS = 32;

    private static final int VERSION_FLOAT_KEYS = 1;
    private static final int VERSION = 2;
    private static final int CHUNK_PREFIX = 2 + 4 + 4;
    private static final int NODE_FIXED = 4 + 1;

    private TreeCells() {
    }

    /** The kind of cell {@code cellId} (its low two bits). */
    static int kind(int cellId) {
        return cellId & 3;
    }

    /**
     * Adds the levels of the nodes of one node-chunk cell into {@code nodesPerLevel}.
     *
     * @return nodes in the cell
     * @throws IllegalStateException naming {@code where} when the bytes do not fit the format
     */
    static int addLevels(byte[] cell, long[] nodesPerLevel, String where) {
        if (cell.length < CHUNK_PREFIX) {
            throw corrupt(where, "has " + cell.length + " bytes, fewer than a node chunk's " + CHUNK_PREFIX);
        }
        if ((cell[0] != VERSION && cell[0] != VERSION_FLOAT_KEYS) || cell[1] != NODE_CHUNK) {
            throw corrupt(where, "has version=" + cell[0] + " kind=" + cell[1] + "; this build reads versions "
                    + VERSION_FLOAT_KEYS + " and " + VERSION + " of kind=" + NODE_CHUNK);
        }
        int count = readInt(cell, 6);
        long body = cell.length - CHUNK_PREFIX;
        if (count <= 0 || body % count != 0) {
            throw corrupt(where, "lists count=" + count + " nodes in " + body + " bytes");
        }
        long record = body / count;
        boolean floatKeys = cell[0] == VERSION_FLOAT_KEYS;
        if (floatKeys ? record <= NODE_FIXED || (record - NODE_FIXED) % Float.BYTES != 0
                : record <= NODE_FIXED + Float.BYTES) {
            throw corrupt(where, "has " + record + " bytes per node, not " + (floatKeys ? "5 + 4 x headDim"
                    : "9 + headDim"));
        }
        for (int i = 0; i < count; i++) {
            int level = cell[(int) (CHUNK_PREFIX + i * record + 4)];
            if (level < 0 || level >= nodesPerLevel.length) {
                throw corrupt(where, "has a node at level=" + level + " outside [0, " + nodesPerLevel.length + ")");
            }
            nodesPerLevel[level]++;
        }
        return count;
    }

    private static int readInt(byte[] b, int at) {
        return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }

    private static IllegalStateException corrupt(String where, String problem) {
        return new IllegalStateException("index cell " + where + " " + problem
                + "; the state is corrupt or from another IceCache version");
    }
}
