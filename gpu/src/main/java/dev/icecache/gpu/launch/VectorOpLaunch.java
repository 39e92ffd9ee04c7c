package dev.icecache.gpu.launch;

/**
 * Launches of {@code ops.cu}: per-row kernels (rmsnorm, softmax: one block of 256 threads per
 * row) and per-item kernels (swiglu, add_into: one thread per float; rope: one per adjacent pair).
 *
 * <pre>
 *   rmsnorm/softmax  grid = (rows), block = 256            row t at t * size
 *   swiglu/add_into  grid = ceil(n / 256), block = 256     item i = blockIdx.x*256 + threadIdx.x
 *   rope             grid = ceil(rows*size/2 / 256)        pair p of row t: floats t*size + 2p, +1;
 *                                                           its angle index is p % (headDim/2)
 * </pre>
 */
public final class VectorOpLaunch {

    /** Threads per block of every op. */
    public static final int THREADS = 256;

    private VectorOpLaunch() {
    }

    /** rmsnorm or softmax over {@code rows} rows. */
    public static LaunchDims perRow(int rows) {
        if (rows < 1 || rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("rows=" + rows + " must be >= 1");
        }
        return LaunchDims.of(rows, 1, THREADS);
    }

    /** swiglu or add_into over {@code n} floats. */
    public static LaunchDims perItem(long n) {
        return LaunchDims.of(LaunchDims.blocksFor(n, THREADS), 1, THREADS);
    }

    /** rope over {@code rows} rows of {@code size} floats (heads of headDim floats, headDim even). */
    public static LaunchDims rope(int rows, int size, int headDim) {
        if (headDim < 2 || headDim % 2 != 0 || size % headDim != 0) {
            throw new IllegalArgumentException("rope size=" + size + " headDim=" + headDim
                    + ": headDim must be even and divide size");
        }
        return perItem((long) rows * (size / 2));
    }

    /** Angle index of pair {@code p} of a row: pairs restart at every head. */
    public static int ropeAngleIndex(int p, int headDim) {
        return p % (headDim / 2);
    }
}
