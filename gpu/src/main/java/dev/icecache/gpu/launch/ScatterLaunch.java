package dev.icecache.gpu.launch;

/**
 * The launch of {@code scatter_pages} in {@code pages.cu}: staging block i goes to pool slot
 * destSlot[i].
 *
 * <pre>
 *   grid = (ceil(floatsPerPage / 256), pages), block = 256
 *   thread (bx, i, tx): float f = bx*256 + tx of block i:  pool[destSlot[i]*floatsPerPage + f] = staging[i*floatsPerPage + f]
 * </pre>
 * A move of more than 65535 pages (the grid's y limit) is split into launches of at most that many.
 */
public final class ScatterLaunch {

    /** Threads per block. */
    public static final int THREADS = 256;

    private ScatterLaunch() {
    }

    /** Grid and block for {@code pages} pages (1 .. 65535) of {@code floatsPerPage} floats. */
    public static LaunchDims dims(int pages, int floatsPerPage) {
        return LaunchDims.of(LaunchDims.blocksFor(floatsPerPage, THREADS), pages, THREADS);
    }

    /** Launches needed for {@code pages} pages. */
    public static int launchesFor(int pages) {
        return (pages + LaunchDims.MAX_GRID_YZ - 1) / LaunchDims.MAX_GRID_YZ;
    }

    /** Float index in the pool that thread (blockX, page i, threadX) writes, or -1 past the block. */
    public static long destIndex(int blockX, int threadX, int destSlot, int floatsPerPage) {
        long f = (long) blockX * THREADS + threadX;
        return f < floatsPerPage ? (long) destSlot * floatsPerPage + f : -1;
    }

    /** Float index in the staging buffer that thread (blockX, page i, threadX) reads, or -1. */
    public static long sourceIndex(int blockX, int page, int threadX, int floatsPerPage) {
        long f = (long) blockX * THREADS + threadX;
        return f < floatsPerPage ? (long) page * floatsPerPage + f : -1;
    }
}
