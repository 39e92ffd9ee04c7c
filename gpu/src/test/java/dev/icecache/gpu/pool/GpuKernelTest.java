package dev.icecache.gpu.pool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;

import dev.icecache.gpu.GpuTestSupport;
import dev.icecache.gpu.cuda.CudaContext;
import dev.icecache.gpu.cuda.DeviceBuffer;
import dev.icecache.gpu.launch.AttentionLaunch;
import dev.icecache.gpu.launch.KernelEmulator;
import dev.icecache.gpu.launch.MatMulLaunch;
import dev.icecache.gpu.launch.PageTable;
import dev.icecache.gpu.launch.PrefillAttentionLaunch;
import dev.icecache.gpu.launch.ResidentSlots;
import dev.icecache.gpu.resident.CudaKvDevice;
import dev.icecache.kvcache.attention.SparseAttention;
import dev.icecache.kvcache.page.InMemoryPageStore;
import dev.icecache.kvcache.page.PageFormat;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.page.PagePool;
import dev.icecache.kvcache.transfer.ResidentSet;
import dev.icecache.kvcache.transfer.TransferPlan;
import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.GgmlType;
import dev.icecache.model.tensor.Quantizer;
import jcuda.Pointer;

/** Each kernel on the device against its CPU counterpart (seeded random inputs). */
@Tag("gpu")
class GpuKernelTest {

    @Test
    void shouldMatchTheCpuDotForEveryWeightType(TestReporter reporter) {
        try (CudaContext cuda = new CudaContext(GpuTestSupport.requireDevice())) {
            float worst = 0f;
            for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0}) {
                SplittableRandom rnd = new SplittableRandom(type.ordinal() + 1);
                int rows = 300;
                int cols = 1024;
                int batch = 7;
                float[] w = random(rnd, rows * cols);
                ByteBuffer bytes = ByteBuffer.allocateDirect((int) type.byteSizeFor(w.length)).order(ByteOrder.LITTLE_ENDIAN);
                Quantizer.encode(type, w, w.length, bytes);
                bytes.flip();
                FloatTensor t = FloatTensor.of("w", type, bytes, w.length);
                float[] x = random(rnd, batch * cols);
                MatMulLaunch p = new MatMulLaunch(type, rows, cols, batch);
                float[] out = new float[rows * batch];
                try (DeviceBuffer dw = new DeviceBuffer(p.weightBytes()); DeviceBuffer dx = DeviceBuffer.ofFloats(x.length);
                     DeviceBuffer dout = DeviceBuffer.ofFloats(out.length)) {
                    dw.uploadBytes(Pointer.to(bytes), p.weightBytes(), 0);
                    dx.upload(x, 0, x.length, 0);
                    cuda.launch(p.kernel(), p.dims(), null, Pointer.to(Pointer.to(dw.pointer()), Pointer.to(dx.pointer()),
                            Pointer.to(dout.pointer()), Pointer.to(new int[] {rows}), Pointer.to(new int[] {cols}),
                            Pointer.to(new int[] {batch})));
                    dout.download(0, out, 0, out.length);
                }
                for (int b = 0; b < batch; b++) {
                    for (int r = 0; r < rows; r++) {
                        float expected = t.scalarDot((long) r * cols, x, b * cols, cols);
                        float diff = Math.abs(expected - out[b * rows + r]);
                        worst = Math.max(worst, diff);
                        assertEquals(expected, out[b * rows + r], 1e-3f, type + " t=" + b + " r=" + r);
                    }
                }
            }
            reporter.publishEntry("summary", String.format("matmul F32/F16/Q8_0/Q4_0 on device: max |diff| vs CPU = %.2e", worst));
        }
    }

    @Test
    void shouldAttendLikeSparseAttentionOverDeviceSlots() {
        try (CudaContext cuda = new CudaContext(GpuTestSupport.requireDevice())) {
            SplittableRandom rnd = new SplittableRandom(5);
            PageLayout layout = new PageLayout(16, 64);
            PagePool pool = new PagePool(layout, 64);
            float[] data = DeviceAttention.randomPool(rnd, pool.data().length);
            AttentionLaunch launch = new AttentionLaunch(8, 2, layout, 20);
            PageTable table = new PageTable(launch);
            float[] q = random(rnd, 8 * 64);
            float[] expected = new float[q.length];
            for (int h = 0; h < 2; h++) {
                SparseAttention cpu = new SparseAttention(64);
                int pos = 0;
                for (int e = 0; e < 20; e++) {
                    int slot = h * 32 + e;
                    int valid = 1 + rnd.nextInt(16);
                    table.add(h, slot, valid);
                    int[] positions = new int[valid];
                    for (int r = 0; r < valid; r++) {
                        positions[r] = pos++;
                    }
                    cpu.addPage(layout, data, pool.offset(slot), positions, valid, Integer.MAX_VALUE);
                }
                for (int g = 0; g < 4; g++) {
                    cpu.attend(q, (h * 4 + g) * 64, expected, (h * 4 + g) * 64);
                }
            }
            float[] got = DeviceAttention.run(cuda, data, table, q, 0, 0);
            for (int i = 0; i < q.length; i++) {
                assertEquals(expected[i], got[i], 1e-4f, "float " + i);
            }
        }
    }

    @Test
    void shouldAttendACausalPrefillBlockLikeTheEmulatedKernel() {
        try (CudaContext cuda = new CudaContext(GpuTestSupport.requireDevice())) {
            SplittableRandom rnd = new SplittableRandom(13);
            PageLayout layout = new PageLayout(16, 64);
            PagePool pool = new PagePool(layout, 64);
            float[] data = DeviceAttention.randomPool(rnd, pool.data().length);
            AttentionLaunch attention = new AttentionLaunch(8, 2, layout, 12);
            int p0 = 4096;
            PrefillAttentionLaunch launch = new PrefillAttentionLaunch(attention, 40);
            PageTable table = new PageTable(attention);
            for (int h = 0; h < 2; h++) {
                for (int e = 0; e < 8; e++) {
                    table.add(h, h * 32 + e, 1 + rnd.nextInt(16));             // retrieved pages
                }
                for (int e = 0; e < 4; e++) {                                  // window + chunk: 4064 .. 4127
                    table.add(h, h * 32 + 8 + e, 16, p0 - 32 + 16 * e);
                }
            }
            float[] q = random(rnd, 40 * 8 * 64);
            float[] expected = new float[q.length];
            KernelEmulator.prefillAttention(launch, table, data, q, p0, expected);
            float[] got = DeviceAttention.run(cuda, data, table, q, 40, p0);
            for (int i = 0; i < q.length; i++) {
                assertEquals(expected[i], got[i], 1e-4f, "float " + i);
            }
        }
    }

    @Test
    void shouldMovePagesIntoTheSameSlotsAsTheCpuPlan() {
        try (CudaContext cuda = new CudaContext(GpuTestSupport.requireDevice())) {
            SplittableRandom rnd = new SplittableRandom(9);
            PageLayout layout = new PageLayout(16, 32);
            PagePool slots = new PagePool(layout, 48);
            InMemoryPageStore store = new InMemoryPageStore(layout, PageFormat.F32);
            for (int h = 0; h < 4; h++) {
                for (int page = 0; page < 30; page++) {
                    store.write(0, h, page, random(rnd, layout.floatsPerPage()), 0, 1 + rnd.nextInt(16));
                }
            }
            ResidentSet[] sets = new ResidentSet[4];
            for (int h = 0; h < 4; h++) {
                sets[h] = new ResidentSet(0, h, 12);
            }
            TransferPlan plan = new TransferPlan(slots);
            ResidentSlots region = new ResidentSlots(layout, 48, 1, 0, 1, 1, 1);
            try (DeviceBuffer memory = DeviceBuffer.ofFloats((long) region.totalSlots() * layout.floatsPerPage());
                 CudaKvDevice device = new CudaKvDevice(cuda, region, PageFormat.F32, memory.pointer(), () -> { },
                         32, 32)) {
                float[] mirror = new float[slots.data().length];
                int[] dest = new int[48];
                for (int step = 0; step < 5; step++) {
                    plan.clear();
                    for (int h = 0; h < 4; h++) {
                        int[] selected = new int[12];
                        for (int i = 0; i < 12; i++) {
                            selected[i] = (step * 5 + i * 2 + h) % 30;
                        }
                        plan.plan(sets[h], selected, 12);
                    }
                    plan.execute(store);
                    for (int i = 0; i < plan.fetchCount(); i++) {
                        dest[i] = plan.fetchSlot(i);
                    }
                    device.loadPages(dest, plan.staging(), plan.fetchCount());
                    memory.download(0, mirror, 0, mirror.length);
                    for (int i = 0; i < plan.fetchCount(); i++) {
                        int at = slots.offset(plan.fetchSlot(i));
                        float[] want = java.util.Arrays.copyOfRange(slots.data(), at, at + layout.floatsPerPage());
                        float[] got = java.util.Arrays.copyOfRange(mirror, at, at + layout.floatsPerPage());
                        assertArrayEquals(want, got, "step=" + step + " fetch=" + i);
                    }
                }
            }
        }
    }

    static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
        return a;
    }
}
