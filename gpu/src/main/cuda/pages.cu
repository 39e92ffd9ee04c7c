// Page moves on the device (icecache.md "Moving pages"): after one host->device copy of the
// staging buffer (staging block i = the i-th fetched page, TransferPlan order), scatter block i
// into pool slot destSlot[i]; the append of one position's K and V rows into page slots; and the
// copy of committed chunk rows into their sink / window slots (the device-resident decode).
//   staging [nPages][floatsPerPage]   pool [slot][floatsPerPage]   (PageLayout blocks)
// F32 pools hold float elements, BF16 pools (the _bf16 kernels) unsigned short (common.cuh).
#include "common.cuh"

template <typename T>
__device__ __forceinline__ void scatter(const T* staging, T* pool, const int* destSlot, int nPages,
                                        int floatsPerPage) {
    int i = blockIdx.y;
    int f = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < nPages && f < floatsPerPage) {
        pool[(long)destSlot[i] * floatsPerPage + f] = staging[(long)i * floatsPerPage + f];
    }
}

// grid = (ceil(floatsPerPage/256), nPages), block = 256 (ScatterLaunch.java).
extern "C" __global__ void scatter_pages(const float* staging, float* pool, const int* destSlot, int nPages,
                                         int floatsPerPage) {
    scatter(staging, pool, destSlot, nPages, floatsPerPage);
}

// scatter_pages over BF16 staging and pool (the host narrows the staged floats, exactly: a BF16
// store's pages widen to floats that narrow back to the same bits).
extern "C" __global__ void scatter_pages_bf16(const unsigned short* staging, unsigned short* pool,
                                              const int* destSlot, int nPages, int floatsPerPage) {
    scatter(staging, pool, destSlot, nPages, floatsPerPage);
}

template <typename T>
__device__ __forceinline__ void write(T* pool, const float* k, const float* v, const int* slot, int row,
                                      int headDim, int rowsPerPage) {
    int h = blockIdx.x;
    long base = (long)slot[h] * 2L * rowsPerPage * headDim;
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        page_store(pool, base + (long)row * headDim + d, k[(long)h * headDim + d]);
        page_store(pool, base + (long)(rowsPerPage + row) * headDim + d, v[(long)h * headDim + d]);
    }
}

// Writes K and V of one position ([kvHead][headDim] each) into row `row` of slot slot[kvHead].
// grid = (nKvHeads), block = min(headDim, 1024) rounded up to a warp (RowsLaunch.java).
extern "C" __global__ void write_rows(float* pool, const float* k, const float* v, const int* slot, int row,
                                      int headDim, int rowsPerPage) {
    write(pool, k, v, slot, row, headDim, rowsPerPage);
}

// write_rows into a BF16 pool: each value narrowed as PageFormat.narrow does.
extern "C" __global__ void write_rows_bf16(unsigned short* pool, const float* k, const float* v, const int* slot,
                                           int row, int headDim, int rowsPerPage) {
    write(pool, k, v, slot, row, headDim, rowsPerPage);
}

template <typename T>
__device__ __forceinline__ void copy(T* pool, const int* pairs, int headDim, int rowsPerPage) {
    int b = blockIdx.x;
    int from = pairs[2 * b];
    int to = pairs[2 * b + 1];
    long fpp = 2L * rowsPerPage * headDim;
    long src = (long)(from / rowsPerPage) * fpp + (long)(from % rowsPerPage) * headDim;
    long dst = (long)(to / rowsPerPage) * fpp + (long)(to % rowsPerPage) * headDim;
    long v = (long)rowsPerPage * headDim;
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        pool[dst + d] = pool[src + d];
        pool[dst + v + d] = pool[src + v + d];
    }
}

// Copies K and V rows inside the pool: row index pairs[2b] to pairs[2b+1] (index = slot *
// rowsPerPage + row); sources and destinations are disjoint (chunk pages to sink / window slots).
// grid = (n), block = min(headDim, 1024) rounded up to a warp (RowsLaunch.java).
extern "C" __global__ void copy_rows(float* pool, const int* pairs, int headDim, int rowsPerPage) {
    copy(pool, pairs, headDim, rowsPerPage);
}

extern "C" __global__ void copy_rows_bf16(unsigned short* pool, const int* pairs, int headDim, int rowsPerPage) {
    copy(pool, pairs, headDim, rowsPerPage);
}
