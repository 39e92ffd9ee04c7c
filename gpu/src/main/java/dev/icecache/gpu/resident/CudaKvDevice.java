package dev.icecache.gpu.resident;

import dev.icecache.gpu.cuda.Cuda;
import dev.icecache.gpu.cuda.CudaContext;
import dev.icecache.gpu.cuda.DeviceBuffer;
import dev.icecache.gpu.cuda.Kernel;
import dev.icecache.gpu.cuda.PinnedBuffer;
import dev.icecache.gpu.launch.AttentionLaunch;
import dev.icecache.gpu.launch.LaunchDims;
import dev.icecache.gpu.launch.PageTable;
import dev.icecache.gpu.launch.PrefillAttentionLaunch;
import dev.icecache.gpu.launch.ResidentSlots;
import dev.icecache.gpu.launch.RowsLaunch;
import dev.icecache.gpu.launch.ScatterLaunch;
import dev.icecache.gpu.launch.StagingLayout;
import dev.icecache.kvcache.page.PageFormat;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

/**
 * {@link KvDevice} on a CUDA device: the document's page region (a lease of the GPU's shared
 * {@link dev.icecache.gpu.pool.SharedDeviceRegion}) in the pool's format, the batch's
 * q / k / v and attention output in the forward pass's buffers, everything on the default stream
 * in launch order.
 *
 * <pre>
 *   loadPages: blocks (floats) --narrow to the pool format--> pinned [slots int32 | blocks]
 *             --one cuMemcpyHtoDAsync--> device staging --scatter_pages[_bf16]--> region
 *   attend:   page table ints (one copy) --paged_attention_prefill[_bf16] in sub-blocks of queries
 *             whose score scratch fits--> out
 * </pre>
 *
 * The pinned staging grows to the largest move seen; a move waits for the previous copy to have
 * read it. Kernel parameter lists are built per launch.
 */
public final class CudaKvDevice implements KvDevice {

    /** Largest score scratch one attention launch may use. */
    static final long MAX_SCRATCH_BYTES = 256L << 20;

    private final CudaContext cuda;
    private final ResidentSlots slots;
    private final PageFormat format;
    private final CUdeviceptr region;
    private final Runnable release;
    private CUdeviceptr q;
    private CUdeviceptr k;
    private CUdeviceptr v;
    private CUdeviceptr out;
    private final int qDim;
    private final int kvDim;
    private final RowsLaunch rowsLaunch;
    private final DeviceBuffer slotArg;       // [nKvHeads] slots of one write_rows
    private DeviceBuffer pairs;               // copy_rows pairs
    private DeviceBuffer tableInts;
    private final java.util.Map<Integer, DeviceBuffer> staticTables = new java.util.HashMap<>();
    private DeviceBuffer scratch;
    private PinnedBuffer hostStaging;
    private DeviceBuffer deviceStaging;
    private final CUevent copied;
    private boolean pending;
    private long h2d;
    private boolean closed;

    /**
     * A device for one document; {@link #bind} names the batch's buffers before each step.
     *
     * @param region the region's device address: {@code slots.bytes(format)} bytes
     * @param release frees the region when this device closes (a lease's return)
     */
    public CudaKvDevice(CudaContext cuda, ResidentSlots slots, PageFormat format, CUdeviceptr region, Runnable release,
                        int qDim, int kvDim) {
        this.cuda = cuda;
        this.slots = slots;
        this.format = format;
        this.region = region;
        this.release = release;
        this.qDim = qDim;
        this.kvDim = kvDim;
        this.rowsLaunch = new RowsLaunch(slots.layout());
        this.slotArg = new DeviceBuffer((long) slots.nKvHeads() * Integer.BYTES);
        this.copied = cuda.newEvent();
    }

    /** The forward pass's buffers of the coming step: q [n][qDim], k and v [n][kvDim], out [n][qDim]. */
    public void bind(CUdeviceptr q, CUdeviceptr k, CUdeviceptr v, CUdeviceptr out) {
        this.q = q;
        this.k = k;
        this.v = v;
        this.out = out;
    }

    private Kernel pick(Kernel f32, Kernel bf16) {
        return format == PageFormat.BF16 ? bf16 : f32;
    }

    private static DeviceBuffer atLeast(DeviceBuffer b, long bytes) {
        if (b != null && b.bytes() >= bytes) {
            return b;
        }
        if (b != null) {
            b.close();
        }
        return new DeviceBuffer(Math.max(bytes, b == null ? 256 : 2 * b.bytes()));
    }

    @Override
    public void writeRows(int t, int[] headSlots, int row) {
        slotArg.upload(headSlots, 0, headSlots.length, 0);
        h2d += (long) headSlots.length * Integer.BYTES;
        int hd = slots.layout().headDim();
        cuda.launch(pick(Kernel.WRITE_ROWS, Kernel.WRITE_ROWS_BF16), rowsLaunch.writeDims(headSlots.length), null,
                Pointer.to(Pointer.to(region), Pointer.to(k.withByteOffset((long) t * kvDim * Float.BYTES)),
                        Pointer.to(v.withByteOffset((long) t * kvDim * Float.BYTES)), Pointer.to(slotArg.pointer()),
                        Pointer.to(new int[] {row}), Pointer.to(new int[] {hd}),
                        Pointer.to(new int[] {slots.rowsPerPage()})));
    }

    @Override
    public void copyRows(int[] rowPairs, int n) {
        pairs = atLeast(pairs, 2L * n * Integer.BYTES);
        pairs.upload(rowPairs, 0, 2 * n, 0);
        h2d += 2L * n * Integer.BYTES;
        cuda.launch(pick(Kernel.COPY_ROWS, Kernel.COPY_ROWS_BF16), rowsLaunch.copyDims(n), null,
                Pointer.to(Pointer.to(region), Pointer.to(pairs.pointer()),
                        Pointer.to(new int[] {slots.layout().headDim()}), Pointer.to(new int[] {slots.rowsPerPage()})));
    }

    @Override
    public void loadPages(int[] destSlots, float[] staged, int n) {
        int fpp = slots.layout().floatsPerPage();
        for (int first = 0; first < n; first += LaunchDims.MAX_GRID_YZ) {
            loadBatch(destSlots, first, staged, Math.min(LaunchDims.MAX_GRID_YZ, n - first), fpp);
        }
    }

    /** One staged move of pages first .. first+m-1: pinned [slots | blocks] (StagingLayout), one copy, one scatter. */
    private void loadBatch(int[] destSlots, int first, float[] staged, int m, int fpp) {
        StagingLayout s = new StagingLayout(slots.layout(), m, format);
        long bytes = s.totalBytes();
        waitForPreviousCopy();
        if (hostStaging == null || hostStaging.bytes() < bytes) {
            if (hostStaging != null) {
                hostStaging.close();
            }
            hostStaging = new PinnedBuffer(Math.max(bytes, hostStaging == null ? 0 : 2 * hostStaging.bytes()));
        }
        deviceStaging = atLeast(deviceStaging, hostStaging.bytes());
        s.fill(hostStaging.view(), destSlots, first, staged, m);
        deviceStaging.uploadAsync(hostStaging.pointer(), bytes, 0, null);
        Cuda.checkCu(JCudaDriver.cuEventRecord(copied, null), "cuEventRecord copied");
        pending = true;
        h2d += bytes;
        cuda.launch(pick(Kernel.SCATTER_PAGES, Kernel.SCATTER_PAGES_BF16), ScatterLaunch.dims(m, fpp), null,
                Pointer.to(Pointer.to(deviceStaging.pointer().withByteOffset(s.blocksByteOffset())), Pointer.to(region),
                        Pointer.to(deviceStaging.pointer().withByteOffset(s.slotsByteOffset())),
                        Pointer.to(new int[] {m}), Pointer.to(new int[] {fpp})));
    }

    /** Blocks until the last staged copy has read the pinned buffer. */
    public void waitForCopies() {
        waitForPreviousCopy();
    }

    private void waitForPreviousCopy() {
        if (pending) {
            Cuda.checkCu(JCudaDriver.cuEventSynchronize(copied), "cuEventSynchronize copied");
            pending = false;
        }
    }

    @Override
    public void attend(PageTable table, int p0, int n) {
        int[] ints = table.ints();
        tableInts = atLeast(tableInts, (long) ints.length * Integer.BYTES);
        tableInts.upload(ints, 0, ints.length, 0);
        h2d += (long) ints.length * Integer.BYTES;
        launchAttention(table, tableInts.pointer(), p0, n);
    }

    @Override
    public void attendStatic(int id, PageTable table, int p0, int n) {
        int[] ints = table.ints();
        DeviceBuffer b = staticTables.get(id);
        if (b == null) {
            b = new DeviceBuffer((long) ints.length * Integer.BYTES);
            staticTables.put(id, b);
            b.upload(ints, 0, ints.length, 0);
            h2d += (long) ints.length * Integer.BYTES;
        } else {
            int counts = table.launch().nKvHeads();
            b.upload(ints, table.countBase(), counts, table.countBase());
            h2d += (long) counts * Integer.BYTES;
        }
        launchAttention(table, b.pointer(), p0, n);
    }

    /** paged_attention_prefill[_bf16] of n queries over a table already on the device, in sub-blocks whose scratch fits. */
    private void launchAttention(PageTable table, CUdeviceptr t, int p0, int n) {
        AttentionLaunch a = table.launch();
        int perQuery = a.scratchFloats();
        int block = (int) Math.max(1, Math.min(n, MAX_SCRATCH_BYTES / ((long) perQuery * Float.BYTES)));
        scratch = atLeast(scratch, (long) block * perQuery * Float.BYTES);
        for (int first = 0; first < n; first += block) {
            int m = Math.min(block, n - first);
            PrefillAttentionLaunch p = new PrefillAttentionLaunch(a, m);
            long row = (long) first * qDim * Float.BYTES;
            cuda.launch(pick(Kernel.PAGED_ATTENTION_PREFILL, Kernel.PAGED_ATTENTION_PREFILL_BF16), p.dims(), null,
                    Pointer.to(Pointer.to(region), Pointer.to(t),
                            Pointer.to(t.withByteOffset((long) table.rowsBase() * Integer.BYTES)),
                            Pointer.to(t.withByteOffset((long) table.firstBase() * Integer.BYTES)),
                            Pointer.to(t.withByteOffset((long) table.countBase() * Integer.BYTES)),
                            Pointer.to(q.withByteOffset(row)), Pointer.to(out.withByteOffset(row)),
                            Pointer.to(scratch.pointer()), Pointer.to(new int[] {a.group()}),
                            Pointer.to(new int[] {a.layout().headDim()}), Pointer.to(new int[] {a.layout().rowsPerPage()}),
                            Pointer.to(new int[] {a.maxPages()}), Pointer.to(new int[] {a.nHeads()}),
                            Pointer.to(new int[] {p0 + first}), Pointer.to(new float[] {a.scale()})));
        }
    }

    @Override
    public long hostToDeviceBytes() {
        return h2d;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        cuda.makeCurrent();
        waitForPreviousCopy();
        cuda.destroy(copied);
        for (DeviceBuffer b : new DeviceBuffer[] {slotArg, pairs, tableInts, scratch, deviceStaging}) {
            if (b != null) {
                b.close();
            }
        }
        staticTables.values().forEach(DeviceBuffer::close);
        if (hostStaging != null) {
            hostStaging.close();
        }
        release.run();
    }
}
