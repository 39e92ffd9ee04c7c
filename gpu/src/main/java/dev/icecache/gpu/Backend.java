package dev.icecache.gpu;

/** Where the model's compute runs. */
public enum Backend {
    /** The Vector API CPU path of the {@code model} module: always available, the oracle. */
    CPU,
    /** CUDA kernels through JCuda on one NVIDIA device. */
    GPU
}
