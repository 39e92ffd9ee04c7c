package dev.icecache.gpu.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

import dev.icecache.gpu.launch.LaunchDims;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUjit_option;
import jcuda.driver.CUmodule;
import jcuda.driver.JITOptions;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * The primary context of one device, with every kernel module loaded from its PTX resource.
 * Build one only after {@code GpuProbe} said the device is available. The context is made
 * current on the creating thread; other threads call {@link #makeCurrent()} before using it.
 * Owned by its creator; closing unloads the modules and releases the primary context.
 */
public final class CudaContext implements AutoCloseable {

    private final int deviceIndex;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final EnumMap<Kernel, CUfunction> functions = new EnumMap<>(Kernel.class);
    private boolean closed;

    /** Retains device {@code deviceIndex}'s primary context and loads every kernel. */
    public CudaContext(int deviceIndex) {
        this.deviceIndex = deviceIndex;
        JCudaDriver.setExceptionsEnabled(false);
        Cuda.checkCu(JCudaDriver.cuInit(0), "cuInit");
        Cuda.checkCu(JCudaDriver.cuDeviceGet(device, deviceIndex), "cuDeviceGet", "index", deviceIndex);
        Cuda.checkCu(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain",
                "index", deviceIndex);
        makeCurrent();
        for (Kernel k : Kernel.values()) {
            CUmodule module = modules.computeIfAbsent(k.module(), m -> load(k));
            CUfunction f = new CUfunction();
            Cuda.checkCu(JCudaDriver.cuModuleGetFunction(f, module, k.entry()), "cuModuleGetFunction " + k.entry());
            functions.put(k, f);
        }
    }

    /** Bytes kept of the driver's JIT error log: enough for the first few PTX diagnostics. */
    private static final int JIT_LOG_BYTES = 8192;

    /**
     * JIT-compiles one PTX module with the driver's error log captured, so that a rejected PTX
     * (an old driver, an unsupported target) says why instead of only naming the error code.
     */
    private static CUmodule load(Kernel k) {
        byte[] ptx = readPtx(k.resource());
        CUmodule module = new CUmodule();
        JITOptions jit = new JITOptions();
        jit.putInt(CUjit_option.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, JIT_LOG_BYTES);
        jit.putBytes(CUjit_option.CU_JIT_ERROR_LOG_BUFFER, new byte[JIT_LOG_BYTES]);
        int rc = JCudaDriver.cuModuleLoadDataJIT(module, Pointer.to(ptx), jit);
        if (rc != 0) {
            Cuda.checkCu(rc, "cuModuleLoadDataEx " + k.resource() + jitLog(jit.getBytes(CUjit_option.CU_JIT_ERROR_LOG_BUFFER)));
        }
        return module;
    }

    /** The JIT log as " (JIT log: ...)" on one line, or "" when the driver wrote none. */
    static String jitLog(byte[] log) {
        if (log == null) {
            return "";
        }
        int n = 0;
        while (n < log.length && log[n] != 0) {
            n++;
        }
        String text = new String(log, 0, n, StandardCharsets.UTF_8).strip().replaceAll("\\s*\\n\\s*", "; ");
        return text.isEmpty() ? "" : " (JIT log: " + text + ")";
    }

    /** The PTX text of a resource, NUL-terminated as cuModuleLoadData wants it. */
    static byte[] readPtx(String resource) {
        try (InputStream in = CudaContext.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("PTX resource " + resource + " is missing from the class path; "
                        + "rebuild the gpu module (src/main/cuda/build-ptx.sh)");
            }
            byte[] text = in.readAllBytes();
            byte[] withNul = new byte[text.length + 1];
            System.arraycopy(text, 0, withNul, 0, text.length);
            return withNul;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read PTX resource " + resource, e);
        }
    }

    /** Makes this context current on the calling thread. */
    public void makeCurrent() {
        Cuda.checkCu(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent", "device", deviceIndex);
    }

    /** The device ordinal. */
    public int deviceIndex() {
        return deviceIndex;
    }

    /**
     * Launches {@code kernel} on {@code stream} (null: the default stream).
     *
     * @param params {@code Pointer.to(Pointer.to(arg0), Pointer.to(arg1), ...)}, built once and reused
     *               by hot paths (an int[] argument is read at launch time, so it may change between launches)
     */
    public void launch(Kernel kernel, LaunchDims d, CUstream stream, Pointer params) {
        Cuda.checkCu(JCudaDriver.cuLaunchKernel(functions.get(kernel), d.gridX(), d.gridY(), d.gridZ(),
                d.blockX(), d.blockY(), d.blockZ(), d.sharedBytes(), stream, params, null),
                kernel.entry(), "gridX", d.gridX(), "gridY", d.gridY());
    }

    /** Waits for all work of this context. */
    public void synchronize() {
        Cuda.checkCu(JCudaDriver.cuCtxSynchronize(), "cuCtxSynchronize");
    }

    /** A new non-blocking stream; the caller destroys it with {@link #destroy(CUstream)}. */
    public CUstream newStream() {
        CUstream s = new CUstream();
        Cuda.checkCu(JCudaDriver.cuStreamCreate(s, jcuda.driver.CUstream_flags.CU_STREAM_NON_BLOCKING),
                "cuStreamCreate");
        return s;
    }

    /** Destroys a stream made by {@link #newStream()}. */
    public void destroy(CUstream s) {
        Cuda.checkCu(JCudaDriver.cuStreamDestroy(s), "cuStreamDestroy");
    }

    /** A new event (timing enabled); the caller destroys it with {@link #destroy(CUevent)}. */
    public CUevent newEvent() {
        CUevent e = new CUevent();
        Cuda.checkCu(JCudaDriver.cuEventCreate(e, 0), "cuEventCreate");
        return e;
    }

    /** Destroys an event made by {@link #newEvent()}. */
    public void destroy(CUevent e) {
        Cuda.checkCu(JCudaDriver.cuEventDestroy(e), "cuEventDestroy");
    }

    /** Milliseconds between two recorded events (waits for the second). */
    public float elapsedMillis(CUevent from, CUevent to) {
        Cuda.checkCu(JCudaDriver.cuEventSynchronize(to), "cuEventSynchronize");
        float[] ms = new float[1];
        Cuda.checkCu(JCudaDriver.cuEventElapsedTime(ms, from, to), "cuEventElapsedTime");
        return ms[0];
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        makeCurrent();
        for (CUmodule m : modules.values()) {
            Cuda.checkCu(JCudaDriver.cuModuleUnload(m), "cuModuleUnload");
        }
        Cuda.checkCu(JCudaDriver.cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease", "index", deviceIndex);
    }
}
