// Element-wise and per-row operations of the Llama forward pass (Transformer.java), one kernel each.
// Launch geometry: RowOpLaunch / ElementwiseLaunch (Java).
#include "common.cuh"

// out[t][i] = weight[i] * (scale_t * x[t][i]), scale_t = 1 / sqrt(mean(x[t]^2) + eps).
// grid = (rows), block = 256. The sum of squares is kept in double like the CPU path.
extern "C" __global__ void rmsnorm(float* out, const float* x, const float* weight, int size, float eps) {
    __shared__ double partial[256];
    const float* xr = x + (long)blockIdx.x * size;
    float* outr = out + (long)blockIdx.x * size;
    double ss = 0.0;
    for (int i = threadIdx.x; i < size; i += blockDim.x) {
        float xi = xr[i];
        ss += (double)(xi * xi);
    }
    partial[threadIdx.x] = ss;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
        __syncthreads();
    }
    float scale = (float)(1.0 / sqrt(partial[0] / size + (double)eps));
    for (int i = threadIdx.x; i < size; i += blockDim.x) {
        outr[i] = weight[i] * (scale * xr[i]);
    }
}

// Rotates adjacent pairs (2i, 2i+1) of every head of rows [0, rows) of vec (row t at t*size, at
// position position0 + t) by angle position * freq[i], i = pair index inside the head.
// One thread per pair: grid = ceil(rows*size/2 / 256), block = 256.
extern "C" __global__ void rope(float* vec, int rows, int size, int headDim, const float* freq, int position0) {
    long pair = (long)blockIdx.x * blockDim.x + threadIdx.x;
    int pairsPerRow = size / 2;
    if (pair >= (long)rows * pairsPerRow) return;
    int t = (int)(pair / pairsPerRow);
    int p = (int)(pair % pairsPerRow);
    int i = p % (headDim / 2);
    double angle = (double)(position0 + t) * (double)freq[i];
    float c = (float)cos(angle);
    float s = (float)sin(angle);
    float* v = vec + (long)t * size + 2 * p;
    float v0 = v[0];
    float v1 = v[1];
    v[0] = v0 * c - v1 * s;
    v[1] = v0 * s + v1 * c;
}

// gate[i] = silu(gate[i]) * up[i] over n floats. grid = ceil(n/256), block = 256.
extern "C" __global__ void swiglu(float* gate, const float* up, int n) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float g = gate[i];
    gate[i] = g / (1.0f + (float)exp(-(double)g)) * up[i];
}

// x[i] += y[i] over n floats (residual connection). grid = ceil(n/256), block = 256.
extern "C" __global__ void add_into(float* x, const float* y, int n) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += y[i];
}

// In-place softmax of each row of size floats: grid = (rows), block = 256.
extern "C" __global__ void softmax(float* x, int size) {
    __shared__ float scratch[32];
    float* xr = x + (long)blockIdx.x * size;
    float m = -INFINITY;
    for (int i = threadIdx.x; i < size; i += blockDim.x) m = fmaxf(m, xr[i]);
    m = block_max(m, scratch);
    float s = 0.0f;
    for (int i = threadIdx.x; i < size; i += blockDim.x) {
        float e = expf(xr[i] - m);
        xr[i] = e;
        s += e;
    }
    s = block_sum(s, scratch);
    float inv = 1.0f / s;
    for (int i = threadIdx.x; i < size; i += blockDim.x) xr[i] *= inv;
}
