package dev.icecache.gpu.pool;

import dev.icecache.gpu.cuda.CudaContext;
import dev.icecache.gpu.cuda.DeviceBuffer;
import jcuda.driver.CUdeviceptr;

/** A {@link SharedDeviceRegion}'s memory on a CUDA device: one {@code cuMemAlloc}. */
public final class CudaRegionMemory implements SharedDeviceRegion.Memory {

    private final CudaContext cuda;
    private final DeviceBuffer buffer;

    /** Allocates {@code bytes} on the context's device (current on the calling thread). */
    public CudaRegionMemory(CudaContext cuda, long bytes) {
        this.cuda = cuda;
        cuda.makeCurrent();
        this.buffer = new DeviceBuffer(bytes);
    }

    /** The device address of byte {@code offset}. */
    public CUdeviceptr pointer(long offset) {
        return buffer.pointer().withByteOffset(offset);
    }

    /** Not a host-usable number: JCuda hides device addresses; use {@link #pointer}. */
    @Override
    public long address() {
        return 0;
    }

    @Override
    public void close() {
        cuda.makeCurrent();
        buffer.close();
    }
}
