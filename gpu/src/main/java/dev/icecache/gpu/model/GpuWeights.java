package dev.icecache.gpu.model;

import java.util.IdentityHashMap;
import java.util.Map;

import jcuda.Pointer;

import dev.icecache.gpu.cuda.CudaContext;
import dev.icecache.gpu.cuda.DeviceBuffer;
import dev.icecache.model.LlamaWeights;
import dev.icecache.model.ModelConfig;
import dev.icecache.model.tensor.FloatTensor;
import dev.icecache.model.tensor.GgmlType;

/**
 * A model's weights in device memory, uploaded once per (device, model) and shared by every
 * sequence of the process: {@link #acquire} returns the existing upload and counts a reference;
 * {@link #close} drops one, and the last one frees the device memory.
 */
public final class GpuWeights implements AutoCloseable {

    /** One weight matrix on the device: rows x cols in the ggml layout of {@code type}. */
    public record Matrix(DeviceBuffer buffer, GgmlType type, int rows, int cols) {
    }

    private static final Map<CudaContext, Map<LlamaWeights, GpuWeights>> SHARED = new IdentityHashMap<>();

    private final CudaContext cuda;
    private final LlamaWeights source;
    private int references;
    final Matrix[] wq;
    final Matrix[] wk;
    final Matrix[] wv;
    final Matrix[] wo;
    final Matrix[] w1;
    final Matrix[] w2;
    final Matrix[] w3;
    final Matrix classifier;
    final DeviceBuffer[] rmsAtt;   // [layer] -> [dim]
    final DeviceBuffer[] rmsFfn;   // [layer] -> [dim]
    final DeviceBuffer rmsFinal;   // [dim]

    private GpuWeights(CudaContext cuda, ModelConfig c, LlamaWeights w) {
        this.cuda = cuda;
        this.source = w;
        int layers = c.nLayers();
        int dim = c.dim();
        int kvDim = c.kvDim();
        int hidden = c.hiddenDim();
        wq = new Matrix[layers];
        wk = new Matrix[layers];
        wv = new Matrix[layers];
        wo = new Matrix[layers];
        w1 = new Matrix[layers];
        w2 = new Matrix[layers];
        w3 = new Matrix[layers];
        rmsAtt = new DeviceBuffer[layers];
        rmsFfn = new DeviceBuffer[layers];
        for (int l = 0; l < layers; l++) {
            wq[l] = upload(w.wq()[l], dim, dim);
            wk[l] = upload(w.wk()[l], kvDim, dim);
            wv[l] = upload(w.wv()[l], kvDim, dim);
            wo[l] = upload(w.wo()[l], dim, dim);
            w1[l] = upload(w.w1()[l], hidden, dim);
            w2[l] = upload(w.w2()[l], dim, hidden);
            w3[l] = upload(w.w3()[l], hidden, dim);
            rmsAtt[l] = floats(w.rmsAtt()[l]);
            rmsFfn[l] = floats(w.rmsFfn()[l]);
        }
        classifier = upload(w.classifier(), c.vocabSize(), dim);
        rmsFinal = floats(w.rmsFinal());
    }

    /**
     * The device copy of {@code w} on {@code cuda}, uploaded on the first call (quantized blocks
     * straight from the tensors' {@link FloatTensor#rawBytes()}).
     */
    public static synchronized GpuWeights acquire(CudaContext cuda, ModelConfig c, LlamaWeights w) {
        Map<LlamaWeights, GpuWeights> onDevice = SHARED.computeIfAbsent(cuda, k -> new IdentityHashMap<>());
        GpuWeights g = onDevice.get(w);
        if (g == null) {
            g = new GpuWeights(cuda, c, w);
            onDevice.put(w, g);
        }
        g.references++;
        return g;
    }

    private static Matrix upload(FloatTensor t, int rows, int cols) {
        TensorBytes b = TensorBytes.of(t);
        long bytes = b.type().byteSizeFor((long) rows * cols);
        if (b.bytes().remaining() < bytes) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' holds " + b.bytes().remaining()
                    + " bytes, fewer than a " + rows + "x" + cols + " " + b.type() + " matrix needs (" + bytes + ")");
        }
        DeviceBuffer d = new DeviceBuffer(bytes);
        d.uploadBytes(Pointer.to(b.bytes()), bytes, 0);
        return new Matrix(d, b.type(), rows, cols);
    }

    private static DeviceBuffer floats(float[] v) {
        DeviceBuffer d = DeviceBuffer.ofFloats(v.length);
        d.upload(v, 0, v.length, 0);
        return d;
    }

    /** Device bytes of all weights. */
    public long deviceBytes() {
        long sum = classifier.buffer().bytes() + rmsFinal.bytes();
        for (int l = 0; l < wq.length; l++) {
            sum += wq[l].buffer().bytes() + wk[l].buffer().bytes() + wv[l].buffer().bytes() + wo[l].buffer().bytes()
                    + w1[l].buffer().bytes() + w2[l].buffer().bytes() + w3[l].buffer().bytes()
                    + rmsAtt[l].bytes() + rmsFfn[l].bytes();
        }
        return sum;
    }

    /** Drops one reference; the last frees the device memory. */
    @Override
    public void close() {
        synchronized (GpuWeights.class) {
            if (--references > 0) {
                return;
            }
            SHARED.get(cuda).remove(source);
        }
        cuda.makeCurrent();
        for (int l = 0; l < wq.length; l++) {
            for (Matrix m : new Matrix[] {wq[l], wk[l], wv[l], wo[l], w1[l], w2[l], w3[l]}) {
                m.buffer().close();
            }
            rmsAtt[l].close();
            rmsFfn[l].close();
        }
        classifier.buffer().close();
        rmsFinal.close();
    }
}
