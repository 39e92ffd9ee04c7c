package dev.icecache.gpu.cuda;

/** A CUDA driver call returned an error; the message names the call, its arguments and the error. */
public final class CudaCallException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int result;

    CudaCallException(int result, String message) {
        super(message);
        this.result = result;
    }

    /** The driver's {@code CUresult} code. */
    public int result() {
        return result;
    }
}
