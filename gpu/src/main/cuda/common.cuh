// Shared device helpers of the IceCache kernels (included by every .cu file of this folder).
#pragma once
#include <cuda_fp16.h>

// Sum of v over the 32 lanes of a warp; every lane gets the total (xor butterfly, 5 steps).
__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, o);
    }
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    }
    return v;
}

// Block-wide sum for blocks of a multiple of 32 threads (at most 1024): warp sums go through
// 32 floats of shared memory; every thread gets the total. scratch must hold 32 floats.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    v = warp_sum(v);
    __syncthreads();                 // scratch may still be read by a previous reduction
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    int warps = blockDim.x >> 5;
    v = lane < warps ? scratch[lane] : 0.0f;
    return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    int warps = blockDim.x >> 5;
    v = lane < warps ? scratch[lane] : -INFINITY;
    return warp_max(v);
}

// The IEEE binary16 at p (2-byte aligned), as ggml stores block scales.
__device__ __forceinline__ float half_at(const unsigned char* p) {
    return __half2float(*reinterpret_cast<const __half*>(p));
}
