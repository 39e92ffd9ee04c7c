package dev.icecache.gpu.launch;

import java.nio.ByteBuffer;

import dev.icecache.model.tensor.Float16;
import dev.icecache.model.tensor.GgmlType;

/**
 * Runs the index math of the .cu kernels on the CPU, thread by thread, reading "device memory"
 * from Java arrays: a transliteration of matmul.cu, attention.cu (both kernels) and pages.cu that uses the
 * launch records' geometry, so that tests can check the kernels' addressing against the CPU
 * data layouts. Warp shuffles are emulated as the xor butterfly they are.
 */
public final class KernelEmulator {

    private KernelEmulator() {
    }

    /** matmul.cu over the whole grid; {@code writes[t*rows + r]} counts the stores to each output. */
    static void matmul(MatMulLaunch p, ByteBuffer w, float[] x, float[] out, int[] writes) {
        LaunchDims d = p.dims();
        float[][] lanes = new float[32][MatMulLaunch.BATCH_TILE];
        for (int bx = 0; bx < d.gridX(); bx++) {
            for (int by = 0; by < d.gridY(); by++) {
                for (int warp = 0; warp < MatMulLaunch.WARPS_PER_BLOCK; warp++) {
                    int row = MatMulLaunch.rowOf(bx, warp);
                    if (row >= p.rows()) {
                        continue;
                    }
                    int t0 = MatMulLaunch.firstVectorOf(by);
                    int nt = p.vectorsFrom(t0);
                    for (int lane = 0; lane < 32; lane++) {
                        lanes[lane] = lanePartial(p, w, x, row, t0, nt, lane);
                    }
                    for (int t = 0; t < nt; t++) {
                        out[(int) p.outIndex(t0 + t, row)] = warpSum(lanes, t);
                        writes[(int) p.outIndex(t0 + t, row)]++;
                    }
                }
            }
        }
    }

    private static float[] lanePartial(MatMulLaunch p, ByteBuffer w, float[] x, int row, int t0, int nt, int lane) {
        float[] acc = new float[MatMulLaunch.BATCH_TILE];
        int cols = p.cols();
        int wr = (int) p.rowByteOffset(row);
        if (p.type() == GgmlType.F32 || p.type() == GgmlType.F16) {
            for (int c = lane; c < cols; c += 32) {
                float wv = p.type() == GgmlType.F32 ? w.getFloat(wr + 4 * c) : Float16.toFloat(w.getShort(wr + 2 * c));
                for (int t = 0; t < nt; t++) {
                    acc[t] += wv * x[(t0 + t) * cols + c];
                }
            }
            return acc;
        }
        int blockBytes = p.type().typeSize();
        for (int b = lane; b < cols / 32; b += 32) {
            int blk = wr + b * blockBytes;
            float scale = Float16.toFloat(w.getShort(blk));
            for (int t = 0; t < nt; t++) {
                int xb = (t0 + t) * cols + b * 32;
                float s = 0f;
                if (p.type() == GgmlType.Q8_0) {
                    for (int j = 0; j < 32; j++) {
                        s += w.get(blk + 2 + j) * x[xb + j];
                    }
                } else {
                    for (int j = 0; j < 16; j++) {
                        int q = w.get(blk + 2 + j) & 0xff;
                        s += ((q & 0x0f) - 8) * x[xb + j];
                        s += ((q >>> 4) - 8) * x[xb + j + 16];
                    }
                }
                acc[t] += scale * s;
            }
        }
        return acc;
    }

    /** __shfl_xor_sync butterfly over 32 lanes, as warp_sum in common.cuh; returns lane 0's total. */
    static float warpSum(float[][] lanes, int t) {
        float[] v = new float[32];
        for (int l = 0; l < 32; l++) {
            v[l] = lanes[l][t];
        }
        for (int o = 16; o > 0; o >>= 1) {
            float[] next = new float[32];
            for (int l = 0; l < 32; l++) {
                next[l] = v[l] + v[l ^ o];
            }
            v = next;
        }
        return v[0];
    }

    /**
     * attention.cu's paged_attention for every query head: pool as device memory, page tables from
     * {@code table}. Reduction order differs from the kernel's block reductions only in summation order.
     */
    static void attention(AttentionLaunch p, PageTable table, float[] pool, float[] q, float[] out) {
        float[] att = new float[p.scratchFloats()];
        for (int qh = 0; qh < p.dims().gridX(); qh++) {
            int hd = p.layout().headDim();
            attendRow(p, table, i -> pool[(int) i], q, qh * hd, qh, Integer.MAX_VALUE, att, qh * p.maxPages()
                    * p.layout().rowsPerPage(), out, qh * hd);
        }
    }

    /**
     * attention.cu's paged_attention_prefill over its whole grid (heads x queries): query t at
     * position p0 + t, q and out as [t][head][headDim].
     */
    public static void prefillAttention(PrefillAttentionLaunch p, PageTable table, float[] pool, float[] q, int p0,
                                 float[] out) {
        prefillAttention(p, table, i -> pool[(int) i], q, p0, out);
    }

    /** Device memory of a page pool as the kernels read it: float index i, widened to float32. */
    @FunctionalInterface
    public interface PoolMemory {
        float get(long floatIndex);
    }

    /** {@link #prefillAttention} over a pool in any format (BF16: the _bf16 kernel's widened reads). */
    public static void prefillAttention(PrefillAttentionLaunch p, PageTable table, PoolMemory pool, float[] q, int p0,
                                        float[] out) {
        AttentionLaunch a = p.attention();
        float[] att = new float[(int) p.scratchFloats()];
        for (int t = 0; t < p.dims().gridY(); t++) {
            for (int qh = 0; qh < p.dims().gridX(); qh++) {
                int row = (int) p.rowIndex(t, qh);
                int scratch = (t * a.nHeads() + qh) * a.maxPages() * a.layout().rowsPerPage();
                attendRow(a, table, pool, q, row, qh, p0 + t, att, scratch, out, row);
            }
        }
    }

    /** One block of either attention kernel: query head qh at {@code position} (MAX_VALUE: decode). */
    private static void attendRow(AttentionLaunch p, PageTable table, PoolMemory pool, float[] q, int qOff, int qh,
                                  int position, float[] att, int a, float[] out, int outOff) {
        int hd = p.layout().headDim();
        int rowsPerPage = p.layout().rowsPerPage();
        int kvh = p.kvHeadOf(qh);
        int n = table.count(kvh) * rowsPerPage;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            int e = i / rowsPerPage;
            int r = i % rowsPerPage;
            float s = Float.NEGATIVE_INFINITY;
            if (PrefillAttentionLaunch.sees(table, kvh, e, r, position)) {
                long k = p.keyIndex(table.slot(kvh, e), r);
                float dot = 0f;
                for (int dd = 0; dd < hd; dd++) {
                    dot += q[qOff + dd] * pool.get(k + dd);
                }
                s = dot * p.scale();
            }
            att[a + i] = s;
            max = Math.max(max, s);
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = att[a + i] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(att[a + i] - max);
            att[a + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int dd = 0; dd < hd; dd++) {
            float o = 0f;
            for (int i = 0; i < n; i++) {
                float wgt = att[a + i];
                if (wgt != 0f) {
                    long vi = p.valueIndex(table.slot(kvh, i / rowsPerPage), i % rowsPerPage);
                    o += (wgt * inv) * pool.get(vi + dd);
                }
            }
            out[outOff + dd] = o;
        }
    }

    /**
     * One staged move: the pinned bytes (StagingLayout) copied as they are to "device" staging,
     * then scatter_pages over its grid into {@code pool}.
     */
    static void scatter(StagingLayout s, ByteBuffer staging, int pages, float[] pool) {
        int fpp = s.layout().floatsPerPage();
        LaunchDims d = ScatterLaunch.dims(pages, fpp);
        for (int bx = 0; bx < d.gridX(); bx++) {
            for (int i = 0; i < d.gridY(); i++) {
                int dest = staging.getInt((int) s.slotsByteOffset() + i * Integer.BYTES);
                for (int tx = 0; tx < d.blockX(); tx++) {
                    long to = ScatterLaunch.destIndex(bx, tx, dest, fpp);
                    long from = ScatterLaunch.sourceIndex(bx, i, tx, fpp);
                    if (to >= 0) {
                        pool[(int) to] = staging.getFloat((int) (s.blocksByteOffset() + from * Float.BYTES));
                    }
                }
            }
        }
    }

    /** common.cuh's bf16_narrow in 32-bit unsigned arithmetic, as the device computes it. */
    public static short bf16Narrow(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Integer.compareUnsigned(bits & 0x7fffffff, 0x7f800000) > 0) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int bias = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + bias) >>> 16);
    }

    /** common.cuh's bf16_widen. */
    public static float bf16Widen(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }
}
