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

// BF16 pages (kvcache PageFormat.BF16): the upper half of the float32 bits, rounded to nearest
// even; NaN stays NaN (quiet bit forced), as PageFormat.narrow does bit for bit.
__device__ __forceinline__ unsigned short bf16_narrow(float f) {
    unsigned int bits = __float_as_uint(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((bits >> 16) | 0x0040u);
    unsigned int bias = 0x7fffu + ((bits >> 16) & 1u);
    return (unsigned short)((bits + bias) >> 16);
}

// Exact: BF16 is a prefix of float32 (PageFormat.widen).
__device__ __forceinline__ float bf16_widen(unsigned short b) {
    return __uint_as_float(((unsigned int)b) << 16);
}

// A page element as float32, for pools of float (F32) or unsigned short (BF16) elements.
__device__ __forceinline__ float page_value(const float* p, long i) { return p[i]; }
__device__ __forceinline__ float page_value(const unsigned short* p, long i) { return bf16_widen(p[i]); }
__device__ __forceinline__ void page_store(float* p, long i, float x) { p[i] = x; }
__device__ __forceinline__ void page_store(unsigned short* p, long i, float x) { p[i] = bf16_narrow(x); }
