package dev.icecache.gpu.cuda;

import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * One {@code cuMemAlloc}'ed region of device memory. Owned by whoever created it; closing frees
 * it (the owning context must be current on the calling thread).
 */
public final class DeviceBuffer implements AutoCloseable {

    private final CUdeviceptr pointer = new CUdeviceptr();
    private final long bytes;
    private boolean closed;

    /**
     * Allocates {@code bytes} bytes.
     *
     * @throws IllegalArgumentException when bytes is not positive
     * @throws CudaCallException when the device is out of memory
     */
    public DeviceBuffer(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("device buffer of bytes=" + bytes + " must be > 0");
        }
        this.bytes = bytes;
        Cuda.checkCu(JCudaDriver.cuMemAlloc(pointer, bytes), "cuMemAlloc", "bytes", bytes);
    }

    /** A buffer of {@code n} floats. */
    public static DeviceBuffer ofFloats(long n) {
        return new DeviceBuffer(Math.multiplyExact(n, (long) Sizeof.FLOAT));
    }

    /** The device address (for kernel arguments). */
    public CUdeviceptr pointer() {
        return pointer;
    }

    /** Size in bytes. */
    public long bytes() {
        return bytes;
    }

    /** Copies {@code src[off .. off+n)} to float index {@code at} of this buffer (synchronous). */
    public void upload(float[] src, int off, int n, long at) {
        checkRange(at * Sizeof.FLOAT, (long) n * Sizeof.FLOAT);
        Cuda.checkCu(JCudaDriver.cuMemcpyHtoD(pointer.withByteOffset(at * Sizeof.FLOAT),
                Pointer.to(src).withByteOffset((long) off * Sizeof.FLOAT), (long) n * Sizeof.FLOAT),
                "cuMemcpyHtoD floats", "at", at, "n", n);
    }

    /** Copies {@code src[off .. off+n)} to int index {@code at} of this buffer (synchronous). */
    public void upload(int[] src, int off, int n, long at) {
        checkRange(at * Sizeof.INT, (long) n * Sizeof.INT);
        Cuda.checkCu(JCudaDriver.cuMemcpyHtoD(pointer.withByteOffset(at * Sizeof.INT),
                Pointer.to(src).withByteOffset((long) off * Sizeof.INT), (long) n * Sizeof.INT),
                "cuMemcpyHtoD ints", "at", at, "n", n);
    }

    /** Copies bytes {@code [0, n)} of a host pointer to byte offset {@code at} (synchronous). */
    public void uploadBytes(Pointer src, long n, long at) {
        checkRange(at, n);
        Cuda.checkCu(JCudaDriver.cuMemcpyHtoD(pointer.withByteOffset(at), src, n), "cuMemcpyHtoD bytes",
                "at", at, "bytes", n);
    }

    /** Asynchronous copy of {@code n} bytes from pinned host memory to byte offset {@code at}. */
    public void uploadAsync(Pointer pinned, long n, long at, CUstream stream) {
        checkRange(at, n);
        Cuda.checkCu(JCudaDriver.cuMemcpyHtoDAsync(pointer.withByteOffset(at), pinned, n, stream),
                "cuMemcpyHtoDAsync", "at", at, "bytes", n);
    }

    /** Copies {@code n} floats from float index {@code at} into {@code dst[off ..]} (synchronous). */
    public void download(long at, float[] dst, int off, int n) {
        checkRange(at * Sizeof.FLOAT, (long) n * Sizeof.FLOAT);
        Cuda.checkCu(JCudaDriver.cuMemcpyDtoH(Pointer.to(dst).withByteOffset((long) off * Sizeof.FLOAT),
                pointer.withByteOffset(at * Sizeof.FLOAT), (long) n * Sizeof.FLOAT),
                "cuMemcpyDtoH floats", "at", at, "n", n);
    }

    private void checkRange(long at, long n) {
        if (closed) {
            throw new IllegalStateException("device buffer used after close");
        }
        if (at < 0 || n < 0 || at + n > bytes) {
            throw new IndexOutOfBoundsException("device copy at byte=" + at + " bytes=" + n
                    + " outside the buffer of bytes=" + bytes);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Cuda.checkCu(JCudaDriver.cuMemFree(pointer), "cuMemFree", "bytes", bytes);
        }
    }
}
