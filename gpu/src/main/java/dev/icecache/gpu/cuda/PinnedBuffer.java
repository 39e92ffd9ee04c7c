package dev.icecache.gpu.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

/**
 * Page-locked host memory ({@code cuMemAllocHost}) for asynchronous host-to-device copies, seen
 * from Java as a little-endian direct {@link ByteBuffer}. Owned by its creator; closing frees it.
 */
public final class PinnedBuffer implements AutoCloseable {

    private final Pointer pointer = new Pointer();
    private final long bytes;
    private final ByteBuffer view;
    private boolean closed;

    /**
     * Allocates {@code bytes} page-locked bytes (at most 2 GiB: one ByteBuffer view).
     *
     * @throws IllegalArgumentException when bytes is not in (0, 2^31)
     */
    public PinnedBuffer(long bytes) {
        if (bytes <= 0 || bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("pinned buffer of bytes=" + bytes + " must be in (0, 2^31)");
        }
        this.bytes = bytes;
        Cuda.checkCu(JCudaDriver.cuMemAllocHost(pointer, bytes), "cuMemAllocHost", "bytes", bytes);
        this.view = pointer.getByteBuffer(0, bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The host address (for copies). */
    public Pointer pointer() {
        return pointer;
    }

    /** Size in bytes. */
    public long bytes() {
        return bytes;
    }

    /** The memory as a little-endian buffer (absolute puts; shared, do not change its position). */
    public ByteBuffer view() {
        if (closed) {
            throw new IllegalStateException("pinned buffer used after close");
        }
        return view;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Cuda.checkCu(JCudaDriver.cuMemFreeHost(pointer), "cuMemFreeHost", "bytes", bytes);
        }
    }
}
