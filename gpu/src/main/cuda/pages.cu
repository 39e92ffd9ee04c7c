// Page moves on the device (icecache.md "Moving pages"): after one host->device copy of the
// staging buffer (staging block i = the i-th fetched page, TransferPlan order), scatter block i
// into pool slot destSlot[i]; and the append of one position's K and V rows into page slots.
//   staging [nPages][floatsPerPage]   pool [slot][floatsPerPage]   (PageLayout blocks)
#include "common.cuh"

// grid = (ceil(floatsPerPage/256), nPages), block = 256 (ScatterLaunch.java).
extern "C" __global__ void scatter_pages(const float* staging, float* pool, const int* destSlot, int nPages,
                                         int floatsPerPage) {
    int i = blockIdx.y;
    int f = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < nPages && f < floatsPerPage) {
        pool[(long)destSlot[i] * floatsPerPage + f] = staging[(long)i * floatsPerPage + f];
    }
}

// Writes K and V of one position ([kvHead][headDim] each) into row `row` of slot slot[kvHead].
// grid = (nKvHeads), block = min(headDim, 1024) rounded up to a warp.
extern "C" __global__ void write_rows(float* pool, const float* k, const float* v, const int* slot, int row,
                                      int headDim, int rowsPerPage) {
    int h = blockIdx.x;
    long base = (long)slot[h] * 2L * rowsPerPage * headDim;
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        pool[base + (long)row * headDim + d] = k[(long)h * headDim + d];
        pool[base + (long)(rowsPerPage + row) * headDim + d] = v[(long)h * headDim + d];
    }
}
