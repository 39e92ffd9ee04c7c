package dev.icecache.gpu.cuda;

import jcuda.driver.CUresult;

/**
 * Error checking of CUDA driver calls (style.md rule 13): every call's result goes through
 * {@code checkCu}, which throws {@link CudaCallException} naming the call and its arguments. The
 * overloads with key/value pairs build their message only on failure, so that checked calls on
 * the per-token path allocate nothing.
 */
public final class Cuda {

    private Cuda() {
    }

    /** Throws when {@code rc} is not {@code CUDA_SUCCESS}. */
    public static void checkCu(int rc, String call) {
        if (rc != CUresult.CUDA_SUCCESS) {
            throw failure(rc, call);
        }
    }

    /** As {@link #checkCu(int, String)}, with one argument for the message ("call key=value"). */
    public static void checkCu(int rc, String call, String key, long value) {
        if (rc != CUresult.CUDA_SUCCESS) {
            throw failure(rc, call + " " + key + "=" + value);
        }
    }

    /** As {@link #checkCu(int, String)}, with two arguments for the message. */
    public static void checkCu(int rc, String call, String key1, long value1, String key2, long value2) {
        if (rc != CUresult.CUDA_SUCCESS) {
            throw failure(rc, call + " " + key1 + "=" + value1 + " " + key2 + "=" + value2);
        }
    }

    /** The driver's name of a result code, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public static String errorName(int rc) {
        try {
            return CUresult.stringFor(rc);
        } catch (Throwable t) {  // the name table is plain Java, but be safe in error paths
            return "CUresult " + rc;
        }
    }

    private static CudaCallException failure(int rc, String call) {
        String hint = rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY ? "; lower the resident pool or batch size"
                : rc == 222 ? "; the PTX (ISA 8.0) needs a CUDA >= 12.0 driver (r525+)" : "";
        return new CudaCallException(rc, "CUDA call failed: " + call + ": " + errorName(rc) + " (" + rc + ")" + hint);
    }
}
