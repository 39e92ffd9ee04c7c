package dev.icecache.gpu.launch;

/**
 * The geometry of one kernel launch: grid of blocks, threads per block and dynamic shared memory,
 * checked against the CUDA limits every device of compute capability 8.0 or newer has.
 *
 * @param gridX blocks along x (1 .. 2^31-1)
 * @param gridY blocks along y (1 .. 65535)
 * @param gridZ blocks along z (1 .. 65535)
 * @param blockX threads per block along x
 * @param blockY threads per block along y
 * @param blockZ threads per block along z (blockX*blockY*blockZ &lt;= 1024)
 * @param sharedBytes dynamic shared memory per block (&lt;= 48 KiB without opt-in)
 */
public record LaunchDims(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes) {

    /** Most blocks along y or z of a grid. */
    public static final int MAX_GRID_YZ = 65535;
    /** Most threads in one block. */
    public static final int MAX_THREADS = 1024;
    /** Most dynamic shared memory per block without the opt-in attribute. */
    public static final int MAX_SHARED = 48 * 1024;

    public LaunchDims {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || gridY > MAX_GRID_YZ || gridZ > MAX_GRID_YZ) {
            throw new IllegalArgumentException("grid=(" + gridX + "," + gridY + "," + gridZ
                    + ") must be >= 1 with y and z <= " + MAX_GRID_YZ);
        }
        if (blockX < 1 || blockY < 1 || blockZ < 1 || (long) blockX * blockY * blockZ > MAX_THREADS) {
            throw new IllegalArgumentException("block=(" + blockX + "," + blockY + "," + blockZ
                    + ") must have 1.." + MAX_THREADS + " threads");
        }
        if (sharedBytes < 0 || sharedBytes > MAX_SHARED) {
            throw new IllegalArgumentException("sharedBytes=" + sharedBytes + " must be in [0, " + MAX_SHARED + "]");
        }
    }

    /** A 1-D block over a 2-D grid without dynamic shared memory. */
    public static LaunchDims of(int gridX, int gridY, int threads) {
        return new LaunchDims(gridX, gridY, 1, threads, 1, 1, 0);
    }

    /** Blocks of {@code threads} threads covering {@code n} items, one per thread. */
    public static int blocksFor(long n, int threads) {
        long blocks = (n + threads - 1) / threads;
        if (n < 1 || blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("n=" + n + " items must be in [1, " + (long) Integer.MAX_VALUE * threads + "]");
        }
        return (int) blocks;
    }

    /** Threads in one block. */
    public int threadsPerBlock() {
        return blockX * blockY * blockZ;
    }
}
