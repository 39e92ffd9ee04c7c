package dev.icecache.gpu.launch;

/**
 * The launch of {@code scatter_pages} in {@code pages.cu}: staging block i goes to pool slot
 * destSlot[i].
 *
 * <pre>
 *   grid = (ceil(floatsPerPage / 256), pages), block = 256      (pages &lt;= 65535: StagingLayout's limit)
 *   thread (bx, i, tx), f = bx*256 + tx &lt; floatsPerPage:
 *       pool[destSlot[i]*floatsPerPage + f] = staging[i*floatsPerPage + f]
 * </pre>
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

    /** Float index in the pool that thread (blockX, threadX) of a page bound for {@code destSlot} writes, or -1. */
    public static long destIndex(int blockX, int threadX, int destSlot, int floatsPerPage) {
        long f = (long) blockX * THREADS + threadX;
        return f < floatsPerPage ? (long) destSlot * floatsPerPage + f : -1;
    }

    /** Float index in the staging blocks that thread (blockX, page, threadX) reads, or -1. */
    public static long sourceIndex(int blockX, int page, int threadX, int floatsPerPage) {
        long f = (long) blockX * THREADS + threadX;
        return f < floatsPerPage ? (long) page * floatsPerPage + f : -1;
    }
}
