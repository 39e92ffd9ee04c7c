package dev.icecache.gpu.resident;

import dev.icecache.gpu.launch.PageTable;

/**
 * The device operations of a device-resident attention step, on one document's page region
 * ({@link dev.icecache.gpu.launch.ResidentSlots}). Row indices are {@code slot * rowsPerPage + row}.
 * The batch's q, k and v are already on the device (the forward pass wrote them); the attention
 * output stays there. {@link CudaKvDevice} launches the kernels of {@code pages.cu} and
 * {@code attention.cu}; the tests run the same index math on the CPU.
 */
public interface KvDevice extends AutoCloseable {

    /** Writes K and V of batch position {@code t} (per KV head) into row {@code row} of {@code slots[kvHead]}. */
    void writeRows(int t, int[] slots, int row);

    /** Copies K and V rows: {@code pairs[2i]} (source row index) to {@code pairs[2i+1]} (destination), i &lt; n. */
    void copyRows(int[] pairs, int n);

    /**
     * Copies {@code n} page blocks from the host into their slots: block i (floats
     * {@code blocks[i * floatsPerPage ..]}, the PageLayout) to slot {@code slots[i]}, in the pool format
     * (one staged copy and one scatter: a plan's fetched pages, or a restored cache's pages).
     */
    void loadPages(int[] slots, float[] blocks, int n);

    /** Causal attention of batch positions 0..n-1 (at p0 ..) over {@code table}; output per position. */
    void attend(PageTable table, int p0, int n);

    /**
     * {@link #attend} over a table whose entries do not change after the first call with this
     * {@code id} (a dense layer lists every page once, with full rows: causality hides rows not yet
     * written); later calls copy only the counts.
     */
    void attendStatic(int id, PageTable table, int p0, int n);

    /** Bytes copied host to device since construction. */
    long hostToDeviceBytes();

    /** Frees the region (its pages leave the device). */
    @Override
    void close();
}
