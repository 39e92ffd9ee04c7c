package dev.icecache.gpu.pool;

import java.util.SplittableRandom;

import dev.icecache.gpu.cuda.CudaContext;
import dev.icecache.gpu.cuda.DeviceBuffer;
import dev.icecache.gpu.cuda.Kernel;
import dev.icecache.gpu.launch.PageTable;
import dev.icecache.gpu.launch.PrefillAttentionLaunch;
import jcuda.Pointer;

/**
 * The device set-up the attention checks share: a pool, its page table, the queries, the output
 * and the score scratch uploaded; one launch of {@code paged_attention} (decode) or
 * {@code paged_attention_prefill}; the output downloaded.
 */
final class DeviceAttention {

    private DeviceAttention() {
    }

    /** A pool block array of random values in [-2, 2). */
    static float[] randomPool(SplittableRandom rnd, int floats) {
        float[] data = new float[floats];
        for (int i = 0; i < floats; i++) {
            data[i] = (float) rnd.nextDouble(-2, 2);
        }
        return data;
    }

    /** paged_attention (queries = 0) or paged_attention_prefill over {@code queries} positions from p0. */
    static float[] run(CudaContext cuda, float[] pool, PageTable table, float[] q, int queries, int p0) {
        var a = table.launch();
        int[] ints = table.ints();
        long scratch = queries == 0 ? a.scratchFloats() : new PrefillAttentionLaunch(a, queries).scratchFloats();
        float[] got = new float[q.length];
        try (DeviceBuffer dpool = DeviceBuffer.ofFloats(pool.length); DeviceBuffer dt = new DeviceBuffer(4L * ints.length);
             DeviceBuffer dq = DeviceBuffer.ofFloats(q.length); DeviceBuffer dout = DeviceBuffer.ofFloats(q.length);
             DeviceBuffer att = DeviceBuffer.ofFloats(scratch)) {
            dpool.upload(pool, 0, pool.length, 0);
            dt.upload(ints, 0, ints.length, 0);
            dq.upload(q, 0, q.length, 0);
            Pointer slots = Pointer.to(dt.pointer());
            Pointer rows = Pointer.to(dt.pointer().withByteOffset(4L * table.rowsBase()));
            Pointer counts = Pointer.to(dt.pointer().withByteOffset(4L * table.countBase()));
            if (queries == 0) {
                cuda.launch(Kernel.PAGED_ATTENTION, a.dims(), null, Pointer.to(Pointer.to(dpool.pointer()), slots, rows,
                        counts, Pointer.to(dq.pointer()), Pointer.to(dout.pointer()), Pointer.to(att.pointer()),
                        Pointer.to(new int[] {a.group()}), Pointer.to(new int[] {a.layout().headDim()}),
                        Pointer.to(new int[] {a.layout().rowsPerPage()}), Pointer.to(new int[] {a.maxPages()}),
                        Pointer.to(new float[] {a.scale()})));
            } else {
                PrefillAttentionLaunch p = new PrefillAttentionLaunch(a, queries);
                cuda.launch(Kernel.PAGED_ATTENTION_PREFILL, p.dims(), null, Pointer.to(Pointer.to(dpool.pointer()),
                        slots, rows, Pointer.to(dt.pointer().withByteOffset(4L * table.firstBase())), counts,
                        Pointer.to(dq.pointer()), Pointer.to(dout.pointer()), Pointer.to(att.pointer()),
                        Pointer.to(new int[] {a.group()}), Pointer.to(new int[] {a.layout().headDim()}),
                        Pointer.to(new int[] {a.layout().rowsPerPage()}), Pointer.to(new int[] {a.maxPages()}),
                        Pointer.to(new int[] {a.nHeads()}), Pointer.to(new int[] {p0}),
                        Pointer.to(new float[] {a.scale()})));
            }
            dout.download(0, got, 0, got.length);
        }
        return got;
    }
}
