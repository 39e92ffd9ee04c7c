package dev.icecache.gpu.launch;

import dev.icecache.gpu.cuda.Kernel;
import dev.icecache.model.tensor.GgmlType;

/**
 * The launch of {@code matmul.cu}: {@code out[t*rows + r] = W[r] . x[t*cols ..+cols)} for a
 * rows x cols matrix in a ggml layout and a batch of vectors (batch = 1 is the matrix-vector
 * product of a decode step).
 *
 * <pre>
 *   block = 256 threads = 8 warps;  grid = (ceil(rows / 8), ceil(batch / 4))
 *   warp w of block (bx, by): row = bx*8 + w,  vectors t0 = by*4 .. min(t0+4, batch)-1
 *   lane l:  F32/F16  columns l, l+32, l+64, ...      Q8_0/Q4_0  blocks l, l+32, ... of 32 columns
 *   row r's weights start at byte type.byteSizeFor(r * cols) (GgmlType: blocks of blockSize)
 * </pre>
 *
 * @param type the weight matrix's ggml type (F32, F16, Q8_0 or Q4_0)
 * @param rows output rows
 * @param cols input columns (a multiple of 32 for Q8_0 and Q4_0)
 * @param batch vectors in x
 */
public record MatMulLaunch(GgmlType type, int rows, int cols, int batch) {

    /** Threads per block. */
    public static final int THREADS = 256;
    /** Warps per block = weight rows per block. */
    public static final int WARPS_PER_BLOCK = THREADS / 32;
    /** Vectors one warp multiplies with each weight row it reads. */
    public static final int BATCH_TILE = 4;

    public MatMulLaunch {
        if (type == null || kernelOf(type) == null) {
            throw new UnsupportedOperationException("GPU matrix product of type " + type
                    + " is not implemented; supported: F32, F16, Q8_0, Q4_0 (BF16 weights are uploaded as F32)");
        }
        if (rows < 1 || cols < 1 || batch < 1) {
            throw new IllegalArgumentException("matmul rows=" + rows + " cols=" + cols + " batch=" + batch + " must be >= 1");
        }
        if (cols % type.blockSize() != 0) {
            throw new IllegalArgumentException("matmul cols=" + cols + " is not a multiple of the " + type
                    + " block size " + type.blockSize());
        }
        if ((batch + BATCH_TILE - 1) / BATCH_TILE > LaunchDims.MAX_GRID_YZ) {
            throw new IllegalArgumentException("matmul batch=" + batch + " exceeds " + LaunchDims.MAX_GRID_YZ * BATCH_TILE);
        }
    }

    /** The kernel for {@code type}, or null when there is none. */
    static Kernel kernelOf(GgmlType type) {
        return switch (type) {
            case F32 -> Kernel.MATMUL_F32;
            case F16 -> Kernel.MATMUL_F16;
            case Q8_0 -> Kernel.MATMUL_Q8_0;
            case Q4_0 -> Kernel.MATMUL_Q4_0;
            case BF16, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K -> null;
        };
    }

    /** The kernel of this product. */
    public Kernel kernel() {
        return kernelOf(type);
    }

    /** Grid and block. */
    public LaunchDims dims() {
        return LaunchDims.of((rows + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK, (batch + BATCH_TILE - 1) / BATCH_TILE, THREADS);
    }

    /** The weight row of warp {@code warp} of block x {@code blockX} (may be past the last row). */
    public static int rowOf(int blockX, int warp) {
        return blockX * WARPS_PER_BLOCK + warp;
    }

    /** First vector of block y {@code blockY}. */
    public static int firstVectorOf(int blockY) {
        return blockY * BATCH_TILE;
    }

    /** Vectors of the tile starting at {@code t0}. */
    public int vectorsFrom(int t0) {
        return Math.min(BATCH_TILE, batch - t0);
    }

    /** Byte offset of row {@code row}'s weights in the matrix. */
    public long rowByteOffset(int row) {
        return type.byteSizeFor((long) row * cols);
    }

    /** Bytes of the whole matrix. */
    public long weightBytes() {
        return type.byteSizeFor((long) rows * cols);
    }

    /** Index of output (vector t, row r) in {@code out}. */
    public long outIndex(int t, int row) {
        return (long) t * rows + row;
    }
}
