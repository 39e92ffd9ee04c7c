package dev.icecache.gpu.resident;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.icecache.gpu.launch.KernelEmulator;
import dev.icecache.gpu.launch.LaunchDims;
import dev.icecache.gpu.launch.PageTable;
import dev.icecache.gpu.launch.PrefillAttentionLaunch;
import dev.icecache.gpu.launch.ResidentSlots;
import dev.icecache.gpu.launch.RowsLaunch;
import dev.icecache.gpu.launch.ScatterLaunch;
import dev.icecache.gpu.launch.StagingLayout;
import dev.icecache.kvcache.page.PageFormat;

/**
 * {@link KvDevice} on the CPU: the region as an array in the pool's format (BF16: 16-bit elements
 * that the emulated kernels narrow on write and widen on read, as the _bf16 kernels do), and each
 * kernel's index math over its launch grid, thread by thread. The batch's q, k, v ("device
 * buffers") are set by the test before each step; the attention output is read back from {@link #out}.
 */
final class EmulatedKvDevice implements KvDevice {

    final ResidentSlots slots;
    final PageFormat format;
    final float[] f32;    // F32 region
    final short[] bf16;   // BF16 region
    final RowsLaunch rowsLaunch;
    final int kvDim;
    final int qDim;
    float[] q;
    float[] k;
    float[] v;
    float[] out;
    long h2d;
    int launches;
    int pagesScattered;
    boolean closed;
    Runnable release = () -> { };
    final java.util.Map<Integer, PageTable> staticTables = new java.util.HashMap<>();

    EmulatedKvDevice(ResidentSlots slots, PageFormat format, int qDim, int maxBatch) {
        this.slots = slots;
        this.format = format;
        long n = (long) slots.totalSlots() * slots.layout().floatsPerPage();
        this.f32 = format == PageFormat.F32 ? new float[(int) n] : null;
        this.bf16 = format == PageFormat.BF16 ? new short[(int) n] : null;
        this.rowsLaunch = new RowsLaunch(slots.layout());
        this.kvDim = slots.nKvHeads() * slots.layout().headDim();
        this.qDim = qDim;
        this.out = new float[maxBatch * qDim];
    }

    private void store(long i, float x) {
        if (f32 != null) {
            f32[(int) i] = x;
        } else {
            bf16[(int) i] = KernelEmulator.bf16Narrow(x);
        }
    }

    private void copy(long from, long to) {
        if (f32 != null) {
            f32[(int) to] = f32[(int) from];
        } else {
            bf16[(int) to] = bf16[(int) from];
        }
    }

    float load(long i) {
        return f32 != null ? f32[(int) i] : KernelEmulator.bf16Widen(bf16[(int) i]);
    }

    @Override
    public void writeRows(int t, int[] headSlots, int row) {
        LaunchDims d = rowsLaunch.writeDims(headSlots.length);
        int hd = slots.layout().headDim();
        for (int h = 0; h < d.gridX(); h++) {
            int rowIndex = headSlots[h] * slots.rowsPerPage() + row;
            for (int tx = 0; tx < d.blockX(); tx++) {
                for (int dd = tx; dd < hd; dd += d.blockX()) {
                    store(rowsLaunch.keyIndex(rowIndex, dd), k[t * kvDim + h * hd + dd]);
                    store(rowsLaunch.valueIndex(rowIndex, dd), v[t * kvDim + h * hd + dd]);
                }
            }
        }
        launches++;
    }

    @Override
    public void copyRows(int[] pairs, int n) {
        LaunchDims d = rowsLaunch.copyDims(n);
        int hd = slots.layout().headDim();
        for (int b = 0; b < d.gridX(); b++) {
            for (int tx = 0; tx < d.blockX(); tx++) {
                for (int dd = tx; dd < hd; dd += d.blockX()) {
                    copy(rowsLaunch.keyIndex(pairs[2 * b], dd), rowsLaunch.keyIndex(pairs[2 * b + 1], dd));
                    copy(rowsLaunch.valueIndex(pairs[2 * b], dd), rowsLaunch.valueIndex(pairs[2 * b + 1], dd));
                }
            }
        }
        h2d += 2L * n * Integer.BYTES;
        launches++;
    }

    @Override
    public void loadPages(int[] destSlots, float[] staged, int n) {
        if (n == 0) {
            return;
        }
        // the pinned staging as CudaKvDevice fills it, copied as it is, then scatter_pages[_bf16] over its grid
        StagingLayout s = new StagingLayout(slots.layout(), n, format);
        ByteBuffer b = ByteBuffer.allocate((int) s.totalBytes()).order(ByteOrder.LITTLE_ENDIAN);
        s.fill(b, destSlots, 0, staged, n);
        int fpp = slots.layout().floatsPerPage();
        LaunchDims d = ScatterLaunch.dims(n, fpp);
        for (int bx = 0; bx < d.gridX(); bx++) {
            for (int i = 0; i < d.gridY(); i++) {
                int dest = b.getInt((int) s.slotsByteOffset() + 4 * i);
                for (int tx = 0; tx < d.blockX(); tx++) {
                    long to = ScatterLaunch.destIndex(bx, tx, dest, fpp);
                    long from = ScatterLaunch.sourceIndex(bx, i, tx, fpp);
                    if (to < 0) {
                        continue;
                    }
                    if (f32 != null) {
                        f32[(int) to] = b.getFloat((int) (s.blocksByteOffset() + 4 * from));
                    } else {
                        bf16[(int) to] = b.getShort((int) (s.blocksByteOffset() + 2 * from));
                    }
                }
            }
        }
        pagesScattered += n;
        h2d += s.totalBytes();
        launches++;
    }

    @Override
    public void attend(PageTable table, int p0, int n) {
        PrefillAttentionLaunch p = new PrefillAttentionLaunch(table.launch(), n);
        h2d += (long) table.ints().length * Integer.BYTES;
        KernelEmulator.prefillAttention(p, table, this::load, q, p0, out);
        launches++;
    }

    @Override
    public void attendStatic(int id, PageTable table, int p0, int n) {
        PageTable onDevice = staticTables.get(id);
        if (onDevice == null) {
            onDevice = table.copy();
            staticTables.put(id, onDevice);
            h2d += (long) table.ints().length * Integer.BYTES;
        } else {
            // only the counts travel: the device keeps the entries of the first call
            for (int h = 0; h < slots.nKvHeads(); h++) {
                onDevice.setCount(h, table.count(h));
            }
            h2d += (long) slots.nKvHeads() * Integer.BYTES;
        }
        KernelEmulator.prefillAttention(new PrefillAttentionLaunch(onDevice.launch(), n), onDevice, this::load, q, p0,
                out);
        launches++;
    }

    @Override
    public long hostToDeviceBytes() {
        return h2d;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            release.run();
        }
    }
}
