package dev.icecache.gpu.model;

import jcuda.Pointer;

import dev.icecache.gpu.cuda.CudaContext;
import dev.icecache.gpu.cuda.DeviceBuffer;
import dev.icecache.gpu.cuda.Kernel;
import dev.icecache.gpu.launch.MatMulLaunch;
import dev.icecache.gpu.launch.VectorOpLaunch;
import dev.icecache.kvcache.KvCache;
import dev.icecache.model.LlamaWeights;
import dev.icecache.model.ModelConfig;

/**
 * The Llama forward pass with every matrix product and vector op on the GPU, in the order of the
 * CPU {@code Transformer}, and attention through any {@link KvCache} on the host: per layer the
 * post-RoPE q, k, v of the batch come back to the host, the cache appends and attends (so every
 * cache policy, IceCache included, selects exactly as on the CPU path), and the attention output
 * goes back up.
 *
 * <p>NOTE: the device-resident attention ({@code DevicePagePool} + {@code paged_attention}) needs
 * a seam in the model and kvcache modules (an attention backend the cache calls with device rows);
 * until then this host round trip of (dim + 2 kvDim) floats per position and layer is the price.
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
    private final DeviceBuffer q;      // [T][dim]
    private final DeviceBuffer k;      // [T][kvDim]
    private final DeviceBuffer v;      // [T][kvDim]
    private final DeviceBuffer logits; // [vocab]
    private final DeviceBuffer freq;   // [headDim/2]
    private final float[] hostX;       // [T][dim] embeddings, then attention output
    private final float[] hostQ;
    private final float[] hostK;
    private final float[] hostV;
    private final float[] hostLogits;

    /** Buffers for batches of up to {@code batch} positions over weights already on the device. */
    public GpuTransformer(CudaContext cuda, ModelConfig c, LlamaWeights w, GpuWeights g, int batch) {
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
        q = DeviceBuffer.ofFloats(batch * dim);
        k = DeviceBuffer.ofFloats((long) batch * c.kvDim());
        v = DeviceBuffer.ofFloats((long) batch * c.kvDim());
        logits = DeviceBuffer.ofFloats(c.vocabSize());
        float[] f = ropeFrequencies(c, w.ropeFrequencyFactors());
        freq = DeviceBuffer.ofFloats(f.length);
        freq.upload(f, 0, f.length, 0);
        hostX = new float[batch * c.dim()];
        hostQ = new float[batch * c.dim()];
        hostK = new float[batch * c.kvDim()];
        hostV = new float[batch * c.kvDim()];
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

        for (int l = 0; l < c.nLayers(); l++) {
            // attention rmsnorm
            rmsnorm(xb, x, g.rmsAtt[l], n, dim, eps);
            // qkv matmuls
            matmul(g.wq[l], xb, q, n);
            matmul(g.wk[l], xb, k, n);
            matmul(g.wv[l], xb, v, n);
            // RoPE on adjacent pairs of every q and k head
            rope(q, n, dim, position);
            rope(k, n, kvDim, position);
            // attention through the host cache: append the batch's k and v, attend each position
            q.download(0, hostQ, 0, n * dim);
            k.download(0, hostK, 0, n * kvDim);
            v.download(0, hostV, 0, n * kvDim);
            for (int t = 0; t < n; t++) {
                cache.append(l, position + t, hostK, t * kvDim, hostV, t * kvDim);
            }
            for (int t = 0; t < n; t++) {
                cache.attend(l, position + t, hostQ, t * dim, hostX, t * dim);
            }
            xb.upload(hostX, 0, n * dim, 0);
            // output projection of attention, residual
            matmul(g.wo[l], xb, xb2, n);
            add(x, xb2, n * dim);
            // ffn rmsnorm, gate and up, SwiGLU, down, residual
            rmsnorm(xb, x, g.rmsFfn[l], n, dim, eps);
            matmul(g.w1[l], xb, hb, n);
            matmul(g.w3[l], xb, hb2, n);
            swiglu(hb, hb2, n * hidden);
            matmul(g.w2[l], hb, xb, n);
            add(x, xb, n * dim);
        }
        if (!wantLogits) {
            cuda.synchronize();
            return null;
        }
        // final rmsnorm of the last position, classifier
        rmsnormRow(xb, x, (long) (n - 1) * dim, g.rmsFinal, dim, eps);
        matmul(g.classifier, xb, logits, 1);
        logits.download(0, hostLogits, 0, c.vocabSize());
        return hostLogits;
    }

    private void matmul(GpuWeights.Matrix m, DeviceBuffer in, DeviceBuffer out, int n) {
        MatMulLaunch plan = new MatMulLaunch(m.type(), m.rows(), m.cols(), n);
        cuda.launch(plan.kernel(), plan.dims(), null, Pointer.to(Pointer.to(m.buffer().pointer()),
                Pointer.to(in.pointer()), Pointer.to(out.pointer()), Pointer.to(new int[] {m.rows()}),
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

    private void rope(DeviceBuffer vec, int rows, int size, int position) {
        cuda.launch(Kernel.ROPE, VectorOpLaunch.rope(rows, size, c.headDim()), null,
                Pointer.to(Pointer.to(vec.pointer()), Pointer.to(new int[] {rows}), Pointer.to(new int[] {size}),
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

    /** Frees the activation buffers (the shared weights stay with their owner). */
    @Override
    public void close() {
        cuda.makeCurrent();
        for (DeviceBuffer b : new DeviceBuffer[] {x, xb, xb2, hb, hb2, q, k, v, logits, freq}) {
            b.close();
        }
    }
}
