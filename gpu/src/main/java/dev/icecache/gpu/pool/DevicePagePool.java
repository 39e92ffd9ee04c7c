package dev.icecache.gpu.pool;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import dev.icecache.gpu.cuda.Cuda;
import dev.icecache.gpu.cuda.CudaContext;
import dev.icecache.gpu.cuda.DeviceBuffer;
import dev.icecache.gpu.cuda.Kernel;
import dev.icecache.gpu.cuda.PinnedBuffer;
import dev.icecache.gpu.launch.ScatterLaunch;
import dev.icecache.gpu.launch.StagingLayout;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PagePool;
import dev.icecache.kvcache.transfer.TransferPlan;
import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * The resident tier on the GPU (architecture.md "Tiers"): the slots of a kvcache {@link PagePool}
 * (which keeps the free list, pins and owners: the pool decides nothing, rule 3) mirrored by one
 * {@code cuMemAlloc}'ed region of {@code capacity} page blocks in the same {@link PageLayout}.
 *
 * <pre>
 *   upload(plan):  plan's staging blocks --put--> pinned staging [dest slots | blocks]
 *                  --one cuMemcpyHtoDAsync on the copy stream--> device staging
 *                  --scatter_pages on the copy stream--> device pool slots;  event "moved"
 *   compute:       {@link #awaitMoves(CUstream)} makes a compute stream wait for "moved"
 * </pre>
 *
 * The pinned buffer is reused, so an upload first waits until the previous copy has finished
 * reading it. Owns its device and pinned memory, stream and event; the context and the slot
 * bookkeeping belong to the caller.
 */
public final class DevicePagePool implements AutoCloseable {

    private final CudaContext cuda;
    private final PagePool slots;
    private final PageLayout layout;
    private final StagingLayout staging;
    private final DeviceBuffer pool;           // [slot][floatsPerPage]
    private final PinnedBuffer hostStaging;    // StagingLayout bytes
    private final DeviceBuffer deviceStaging;  // same bytes on the device
    private final FloatBuffer stagingFloats;
    private final ByteBuffer stagingBytes;
    private final CUstream copyStream;
    private final CUevent moved;
    private boolean pending;
    // scatter arguments, reused: the int[]s are read at launch time
    private final int[] pagesArg = new int[1];
    private final int[] floatsPerPageArg = new int[1];
    private final Pointer scatterParams;
    private long pagesMoved;
    private long bytesMoved;

    /**
     * A device mirror of {@code slots}' blocks with staging room for {@code stagingPages} pages per move.
     *
     * @throws dev.icecache.gpu.cuda.CudaCallException when the device lacks the memory
     */
    public DevicePagePool(CudaContext cuda, PagePool slots, int stagingPages) {
        this.cuda = cuda;
        this.slots = slots;
        this.layout = slots.layout();
        this.staging = new StagingLayout(layout, stagingPages);
        this.pool = DeviceBuffer.ofFloats((long) slots.capacity() * layout.floatsPerPage());
        this.hostStaging = new PinnedBuffer(staging.totalBytes());
        this.deviceStaging = new DeviceBuffer(staging.totalBytes());
        this.stagingBytes = hostStaging.view();
        this.stagingFloats = stagingBytes.slice((int) staging.blocksByteOffset(),
                (int) (staging.totalBytes() - staging.blocksByteOffset())).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        this.copyStream = cuda.newStream();
        this.moved = cuda.newEvent();
        floatsPerPageArg[0] = layout.floatsPerPage();
        this.scatterParams = Pointer.to(
                Pointer.to(deviceStaging.pointer().withByteOffset(staging.blocksByteOffset())),
                Pointer.to(pool.pointer()),
                Pointer.to(deviceStaging.pointer().withByteOffset(staging.slotsByteOffset())),
                Pointer.to(pagesArg), Pointer.to(floatsPerPageArg));
    }

    /** The slot bookkeeping (free list, pins, owners); its host array is the CPU mirror. */
    public PagePool slots() {
        return slots;
    }

    /** The device region of every slot's block: slot s at float s * floatsPerPage. */
    public DeviceBuffer pool() {
        return pool;
    }

    /** The staging geometry. */
    public StagingLayout staging() {
        return staging;
    }

    /**
     * Moves the pages an executed {@link TransferPlan} fetched (its staging buffer, in plan order)
     * into their device slots: one asynchronous copy and one scatter on the copy stream.
     *
     * @return pages moved
     * @throws IllegalArgumentException when the plan fetched more pages than the staging holds
     */
    public int upload(TransferPlan plan) {
        int n = plan.fetchCount();
        if (n == 0) {
            return 0;
        }
        if (n > staging.capacityPages()) {
            throw new IllegalArgumentException("plan fetched n=" + n + " pages but the staging holds "
                    + staging.capacityPages() + "; size the pool's staging for KV heads x retrieved pages x layers");
        }
        waitForPreviousCopy();
        int fpp = layout.floatsPerPage();
        for (int i = 0; i < n; i++) {
            stagingBytes.putInt((int) staging.slotsByteOffset() + i * Integer.BYTES, plan.fetchSlot(i));
        }
        stagingFloats.put(0, plan.staging(), 0, n * fpp);
        long bytes = staging.moveBytes(n);
        deviceStaging.uploadAsync(hostStaging.pointer(), bytes, 0, copyStream);
        pagesArg[0] = n;
        cuda.launch(Kernel.SCATTER_PAGES, ScatterLaunch.dims(n, fpp), copyStream, scatterParams);
        Cuda.checkCu(JCudaDriver.cuEventRecord(moved, copyStream), "cuEventRecord moved");
        pending = true;
        pagesMoved += n;
        bytesMoved += bytes;
        return n;
    }

    /** Makes {@code computeStream} wait (on the device) until the last upload has landed. */
    public void awaitMoves(CUstream computeStream) {
        if (pending) {
            Cuda.checkCu(JCudaDriver.cuStreamWaitEvent(computeStream, moved, 0), "cuStreamWaitEvent moved");
        }
    }

    /** Blocks the calling thread until the last upload has landed. */
    public void waitForPreviousCopy() {
        if (pending) {
            Cuda.checkCu(JCudaDriver.cuEventSynchronize(moved), "cuEventSynchronize moved");
            pending = false;
        }
    }

    /** Pages moved since construction. */
    public long pagesMoved() {
        return pagesMoved;
    }

    /** Bytes copied host to device since construction (blocks and slot tables). */
    public long bytesMoved() {
        return bytesMoved;
    }

    @Override
    public void close() {
        cuda.makeCurrent();
        waitForPreviousCopy();
        cuda.destroy(moved);
        cuda.destroy(copyStream);
        deviceStaging.close();
        hostStaging.close();
        pool.close();
    }
}
