package dev.icecache.gpu.model;

import java.util.IdentityHashMap;
import java.util.Map;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.icecache.gpu.cuda.CudaCallException;
import dev.icecache.gpu.cuda.CudaContext;
import dev.icecache.gpu.cuda.DeviceBuffer;
import dev.icecache.gpu.cuda.Kernel;
import dev.icecache.gpu.launch.MatMulLaunch;
import dev.icecache.gpu.launch.ResidentSlots;
import dev.icecache.gpu.launch.VectorOpLaunch;
import dev.icecache.gpu.pool.CudaRegionMemory;
import dev.icecache.gpu.pool.SharedDeviceRegion;
import dev.icecache.gpu.resident.CudaKvDevice;
import dev.icecache.gpu.resident.ResidentAttention;
import dev.icecache.kvcache.KvCache;
import dev.icecache.kvcache.page.PageLayout;
import dev.icecache.kvcache.policy.PagedKvCache;
import dev.icecache.model.LlamaWeights;
import dev.icecache.model.ModelConfig;

/**
 * The Llama forward pass with every matrix product and vector op on the GPU, in the order of the
 * CPU {@code Transformer}. Attention, per cache:
 * <ul>
 *   <li>a {@link PagedKvCache} (empty, or restored: its pages go up once) and a device region to lease from: device-resident
 *       ({@link ResidentAttention}): per layer one download of the batch's q|k|v (k|v for a dense
 *       layer) for the host's index, store and page selection; the pages, the current chunk, the
 *       dense layers and the attention itself stay on the device, and the output is written where
 *       the output projection reads it (no upload);</li>
 *   <li>any other cache (FullCache, a wrapper), or no room on the device: through
 *       the host cache, per layer q, k, v down and the attention output up.</li>
 * </ul>
 * Every policy selects on the host exactly as on the CPU path. Bytes crossing the bus are counted
 * per forward call ({@link #lastHostToDeviceBytes}, {@link #lastDeviceToHostBytes}).
 * Kernel parameter lists are built per launch (small allocations on the GPU path).
 *
 * <p>One instance per sequence (it owns its activation buffers); not thread-safe.
 */
public final class GpuTransformer implements AutoCloseable {

    private final CudaContext cuda;
    private final ModelConfig c;
    private final LlamaWeights w;
    private final GpuWeights g;
    private final int batch;
    private final DeviceBuffer x;      // [T][dim]
    private final DeviceBuffer xb;     // [T][dim]
    private final DeviceBuffer xb2;    // [T][dim]
    private final DeviceBuffer hb;     // [T][hidden]
    private final DeviceBuffer hb2;    // [T][hidden]
    private final DeviceBuffer qkv;    // [n][dim] q | [n][kvDim] k | [n][kvDim] v of an n-position batch
    private final DeviceBuffer logits; // [vocab]
    private final DeviceBuffer freq;   // [headDim/2]
    private final float[] hostX;       // [T][dim] embeddings, then attention output
    private final float[] hostQkv;     // the same layout on the host
    private final float[] hostLogits;
    private final SharedDeviceRegion region;  // null: host attention only
    private final Map<KvCache, Resident> residents = new IdentityHashMap<>();
    private final Map<KvCache, Boolean> hostOnly = new java.util.WeakHashMap<>();  // PagedKvCache: identity equality
    private long lastH2d;
    private long lastD2h;

    private static final Logger LOG = LoggerFactory.getLogger(GpuTransformer.class);

    /** A document's device-resident attention and its device. */
    private record Resident(ResidentAttention attention, CudaKvDevice device) {
    }

    /** Host attention only (no device region). */
    public GpuTransformer(CudaContext cuda, ModelConfig c, LlamaWeights w, GpuWeights g, int batch) {
        this(cuda, c, w, g, batch, null);
    }

    /**
     * Buffers for batches of up to {@code batch} positions over weights already on the device.
     *
     * @param region the GPU's shared page region documents lease from (null: host attention only)
     */
    public GpuTransformer(CudaContext cuda, ModelConfig c, LlamaWeights w, GpuWeights g, int batch,
                          SharedDeviceRegion region) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch=" + batch + " must be >= 1");
        }
        this.cuda = cuda;
        this.c = c;
        this.w = w;
        this.g = g;
        this.batch = batch;
        long dim = c.dim();
        x = DeviceBuffer.ofFloats(batch * dim);
        xb = DeviceBuffer.ofFloats(batch * dim);
        xb2 = DeviceBuffer.ofFloats(batch * dim);
        hb = DeviceBuffer.ofFloats((long) batch * c.hiddenDim());
        hb2 = DeviceBuffer.ofFloats((long) batch * c.hiddenDim());
        this.region = region;
        qkv = DeviceBuffer.ofFloats((long) batch * (c.dim() + 2L * c.kvDim()));
        logits = DeviceBuffer.ofFloats(c.vocabSize());
        float[] f = ropeFrequencies(c, w.ropeFrequencyFactors());
        freq = DeviceBuffer.ofFloats(f.length);
        freq.upload(f, 0, f.length, 0);
        hostX = new float[batch * c.dim()];
        hostQkv = new float[batch * (c.dim() + 2 * c.kvDim())];
        hostLogits = new float[c.vocabSize()];
    }

    /** theta^(-2i/headDim), divided by the rope scaling factors: as the CPU InferenceState computes them. */
    static float[] ropeFrequencies(ModelConfig c, float[] factors) {
        float[] f = new float[c.headDim() / 2];
        for (int i = 0; i < f.length; i++) {
            double base = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / c.headDim());
            f[i] = (float) (factors == null ? base : base / factors[i]);
        }
        return f;
    }

    /**
     * Runs {@code tokens[off .. off+n)} at positions {@code position ..} (n &lt;= batch).
     *
     * @return the logits of the last position (owned by this object), or null when not wanted
     */
    public float[] forward(KvCache cache, int[] tokens, int off, int n, int position, boolean wantLogits) {
        if (n < 1 || n > batch) {
            throw new IllegalArgumentException("n=" + n + " positions must be in [1, batch=" + batch + "]");
        }
        cuda.makeCurrent();
        final int dim = c.dim();
        final int kvDim = c.kvDim();
        final int hidden = c.hiddenDim();
        final float eps = c.rmsEps();

        // token embeddings (decoded on the host: one row per token)
        for (int t = 0; t < n; t++) {
            w.tokenEmbedding().copyTo((long) tokens[off + t] * dim, hostX, t * dim, dim);
        }
        x.upload(hostX, 0, n * dim, 0);
        long h2d = 4L * n * dim;
        long d2h = 0;
        Resident resident = residentFor(cache);
        long deviceH2d0 = resident == null ? 0 : resident.device().hostToDeviceBytes();
        // q | k | v of this batch, back to back so that one copy brings them down
        CUdeviceptr q = qkv.pointer();
        CUdeviceptr k = qkv.pointer().withByteOffset(4L * n * dim);
        CUdeviceptr v = qkv.pointer().withByteOffset(4L * n * (dim + kvDim));
        int kAt = n * dim;
        int vAt = n * (dim + kvDim);

        for (int l = 0; l < c.nLayers(); l++) {
            // attention rmsnorm
            rmsnorm(xb, x, g.rmsAtt[l], n, dim, eps);
            // qkv matmuls
            matmul(g.wq[l], xb.pointer(), q, n);
            matmul(g.wk[l], xb.pointer(), k, n);
            matmul(g.wv[l], xb.pointer(), v, n);
            // RoPE on adjacent pairs of every q and k head
            rope(q, n, dim, position);
            rope(k, n, kvDim, position);
            if (resident != null) {
                // one copy down: q|k|v (a dense layer's q is not needed on the host); attention on the device into xb
                boolean dense = l < resident.attention().slots().firstSparse();
                int from = dense ? kAt : 0;
                qkv.download(from, hostQkv, from, vAt + n * kvDim - from);
                d2h += 4L * (vAt + n * kvDim - from);
                resident.device().bind(q, k, v, xb.pointer());
                resident.attention().attendLayer(l, position, n, hostQkv, 0, hostQkv, kAt, hostQkv, vAt);
            } else {
                // attention through the host cache: append the batch's k and v, attend each position
                qkv.download(0, hostQkv, 0, vAt + n * kvDim);
                d2h += 4L * (vAt + n * kvDim);
                for (int t = 0; t < n; t++) {
                    cache.append(l, position + t, hostQkv, kAt + t * kvDim, hostQkv, vAt + t * kvDim);
                }
                for (int t = 0; t < n; t++) {
                    cache.attend(l, position + t, hostQkv, t * dim, hostX, t * dim);
                }
                xb.upload(hostX, 0, n * dim, 0);
                h2d += 4L * n * dim;
            }
            // output projection of attention, residual
            matmul(g.wo[l], xb.pointer(), xb2.pointer(), n);
            add(x, xb2, n * dim);
            // ffn rmsnorm, gate and up, SwiGLU, down, residual
            rmsnorm(xb, x, g.rmsFfn[l], n, dim, eps);
            matmul(g.w1[l], xb.pointer(), hb.pointer(), n);
            matmul(g.w3[l], xb.pointer(), hb2.pointer(), n);
            swiglu(hb, hb2, n * hidden);
            matmul(g.w2[l], hb.pointer(), xb.pointer(), n);
            add(x, xb, n * dim);
        }
        if (resident != null) {
            h2d += resident.device().hostToDeviceBytes() - deviceH2d0;
        }
        lastH2d = h2d;
        if (!wantLogits) {
            lastD2h = d2h;
            cuda.synchronize();
            return null;
        }
        // final rmsnorm of the last position, classifier
        rmsnormRow(xb, x, (long) (n - 1) * dim, g.rmsFinal, dim, eps);
        matmul(g.classifier, xb.pointer(), logits.pointer(), 1);
        logits.download(0, hostLogits, 0, c.vocabSize());
        lastD2h = d2h + 4L * c.vocabSize();
        return hostLogits;
    }

    /** Bytes the last {@link #forward} copied host to device (embeddings, tables, rows moved, page moves). */
    public long lastHostToDeviceBytes() {
        return lastH2d;
    }

    /** Bytes the last {@link #forward} copied device to host (q|k|v per layer, logits). */
    public long lastDeviceToHostBytes() {
        return lastD2h;
    }

    /** Whether {@code cache} attends on the device (after its first forward). */
    public boolean isDeviceResident(KvCache cache) {
        return residents.containsKey(cache);
    }

    /** Bytes of device pages the documents of this pass hold. */
    public long residentDeviceBytes() {
        long sum = 0;
        for (Resident r : residents.values()) {
            sum += r.attention().deviceBytes();
        }
        return sum;
    }

    /**
     * The cache's device-resident attention: made on its first forward when it is a
     * {@link PagedKvCache} (a restored one hands its pages up first) and the region has room, else
     * null (host attention; a full region logs one WARN line per cache).
     */
    private Resident residentFor(KvCache cache) {
        Resident r = residents.get(cache);
        if (r != null || region == null || !(cache instanceof PagedKvCache pc) || hostOnly.containsKey(cache)) {
            return r;
        }
        ResidentSlots slots = ResidentSlots.of(PageLayout.of(c.headDim()), pc.poolCapacityPages(), c.nLayers(),
                pc.config().denseLayers(), c.nKvHeads(), batch, pc.shape().maxTokens());
        SharedDeviceRegion.Lease lease;
        try {
            lease = region.lease("cache@" + Integer.toHexString(System.identityHashCode(cache)),
                    slots.bytes(pc.config().pageFormat()));
        } catch (IllegalArgumentException | IllegalStateException | CudaCallException e) {
            // over the per-document budget, region full, or the region's cuMemAlloc failed (out of memory)
            LOG.warn("GPU: attention of this document stays on the host: {}", e.getMessage());
            hostOnly.put(cache, Boolean.TRUE);
            return null;
        }
        CudaKvDevice[] device = new CudaKvDevice[1];
        CUdeviceptr base = ((CudaRegionMemory) region.memory()).pointer(lease.offset());
        ResidentAttention attention;
        try {
            attention = new ResidentAttention(pc, slots, s -> device[0] = new CudaKvDevice(cuda, s,
                    pc.config().pageFormat(), base, lease::close, c.dim(), c.kvDim()));
        } catch (IllegalStateException e) {
            // held uncommitted chunk rows (used elsewhere mid-element): the device copy would miss them
            LOG.warn("GPU: attention of this document stays on the host: {}", e.getMessage());
            lease.close();
            hostOnly.put(cache, Boolean.TRUE);
            return null;
        }
        Resident made = new Resident(attention, device[0]);
        attention.onClose(() -> residents.remove(cache));
        residents.put(cache, made);
        return made;
    }

    private void matmul(GpuWeights.Matrix m, CUdeviceptr in, CUdeviceptr out, int n) {
        MatMulLaunch plan = new MatMulLaunch(m.type(), m.rows(), m.cols(), n);
        cuda.launch(plan.kernel(), plan.dims(), null, Pointer.to(Pointer.to(m.buffer().pointer()),
                Pointer.to(in), Pointer.to(out), Pointer.to(new int[] {m.rows()}),
                Pointer.to(new int[] {m.cols()}), Pointer.to(new int[] {n})));
    }

    private void rmsnorm(DeviceBuffer out, DeviceBuffer in, DeviceBuffer weight, int rows, int size, float eps) {
        cuda.launch(Kernel.RMSNORM, VectorOpLaunch.perRow(rows), null, Pointer.to(Pointer.to(out.pointer()),
                Pointer.to(in.pointer()), Pointer.to(weight.pointer()), Pointer.to(new int[] {size}),
                Pointer.to(new float[] {eps})));
    }

    private void rmsnormRow(DeviceBuffer out, DeviceBuffer in, long inFloat, DeviceBuffer weight, int size, float eps) {
        cuda.launch(Kernel.RMSNORM, VectorOpLaunch.perRow(1), null, Pointer.to(Pointer.to(out.pointer()),
                Pointer.to(in.pointer().withByteOffset(inFloat * Float.BYTES)), Pointer.to(weight.pointer()),
                Pointer.to(new int[] {size}), Pointer.to(new float[] {eps})));
    }

    private void rope(CUdeviceptr vec, int rows, int size, int position) {
        cuda.launch(Kernel.ROPE, VectorOpLaunch.rope(rows, size, c.headDim()), null,
                Pointer.to(Pointer.to(vec), Pointer.to(new int[] {rows}), Pointer.to(new int[] {size}),
                        Pointer.to(new int[] {c.headDim()}), Pointer.to(freq.pointer()),
                        Pointer.to(new int[] {position})));
    }

    private void swiglu(DeviceBuffer gate, DeviceBuffer up, int n) {
        cuda.launch(Kernel.SWIGLU, VectorOpLaunch.perItem(n), null,
                Pointer.to(Pointer.to(gate.pointer()), Pointer.to(up.pointer()), Pointer.to(new int[] {n})));
    }

    private void add(DeviceBuffer into, DeviceBuffer y, int n) {
        cuda.launch(Kernel.ADD_INTO, VectorOpLaunch.perItem(n), null,
                Pointer.to(Pointer.to(into.pointer()), Pointer.to(y.pointer()), Pointer.to(new int[] {n})));
    }

    /**
     * Frees the activation buffers and the device pages of documents still attending here (their
     * caches go back to host attention); the shared weights stay with their owner.
     */
    @Override
    public void close() {
        cuda.makeCurrent();
        for (Resident r : residents.values().toArray(new Resident[0])) {
            r.attention().close();
        }
        for (DeviceBuffer b : new DeviceBuffer[] {x, xb, xb2, hb, hb2, qkv, logits, freq}) {
            b.close();
        }
    }
}
