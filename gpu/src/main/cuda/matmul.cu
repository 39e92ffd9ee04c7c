// Matrix products out[t*rows + r] = W[r] . x[t*cols .. +cols) for t in [0, batch), r in [0, rows),
// with W row-major in its ggml layout (GgmlType / GGUF):
//   F32   4 bytes per element            F16   2 bytes per element (IEEE binary16)
//   Q8_0  blocks of 32: f16 d, 32 x int8 q                          x = d * q         (34 bytes)
//   Q4_0  blocks of 32: f16 d, 16 bytes; byte j = elem j (low nibble) | elem j+16 (high nibble),
//                       x = d * (nibble - 8)                                            (18 bytes)
// Launch (MatMulLaunch.java): block = 256 threads = 8 warps; grid = (ceil(rows/8), ceil(batch/4)).
// Warp w of block (bx, by) owns row bx*8 + w and the vectors by*4 .. by*4+3: each weight element
// is read once for four vectors. F32/F16: lane l takes columns l, l+32, ... (coalesced);
// Q8_0/Q4_0: lane l takes whole blocks l, l+32, ... (cols must be a multiple of 32).
// A matrix-vector product is the batch = 1 case.
#include "common.cuh"

#define WARPS_PER_BLOCK 8
#define BATCH_TILE 4

__device__ __forceinline__ void store_tile(float acc[BATCH_TILE], float* out, int rows, int row, int t0, int nt) {
    int lane = threadIdx.x & 31;
    for (int t = 0; t < BATCH_TILE; t++) {
        float s = warp_sum(acc[t]);  // every lane takes part: nt is the same for the whole warp
        if (t < nt && lane == 0) {
            out[(long)(t0 + t) * rows + row] = s;
        }
    }
}

// Sets row, t0, nt for the calling warp; false when the warp has no row.
__device__ __forceinline__ bool tile_of(int rows, int batch, int* row, int* t0, int* nt) {
    *row = blockIdx.x * WARPS_PER_BLOCK + (threadIdx.x >> 5);
    *t0 = blockIdx.y * BATCH_TILE;
    *nt = min(BATCH_TILE, batch - *t0);
    return *row < rows;
}

extern "C" __global__ void matmul_f32(const float* w, const float* x, float* out, int rows, int cols, int batch) {
    int row, t0, nt;
    if (!tile_of(rows, batch, &row, &t0, &nt)) return;
    int lane = threadIdx.x & 31;
    const float* wr = w + (long)row * cols;
    const float* xt = x + (long)t0 * cols;
    float acc[BATCH_TILE] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int c = lane; c < cols; c += 32) {
        float wv = wr[c];
        for (int t = 0; t < nt; t++) acc[t] += wv * xt[(long)t * cols + c];
    }
    store_tile(acc, out, rows, row, t0, nt);
}

extern "C" __global__ void matmul_f16(const __half* w, const float* x, float* out, int rows, int cols, int batch) {
    int row, t0, nt;
    if (!tile_of(rows, batch, &row, &t0, &nt)) return;
    int lane = threadIdx.x & 31;
    const __half* wr = w + (long)row * cols;
    const float* xt = x + (long)t0 * cols;
    float acc[BATCH_TILE] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int c = lane; c < cols; c += 32) {
        float wv = __half2float(wr[c]);
        for (int t = 0; t < nt; t++) acc[t] += wv * xt[(long)t * cols + c];
    }
    store_tile(acc, out, rows, row, t0, nt);
}

extern "C" __global__ void matmul_q8_0(const unsigned char* w, const float* x, float* out, int rows, int cols, int batch) {
    int row, t0, nt;
    if (!tile_of(rows, batch, &row, &t0, &nt)) return;
    int lane = threadIdx.x & 31;
    int blocks = cols / 32;
    const unsigned char* wr = w + (long)row * blocks * 34;
    const float* xt = x + (long)t0 * cols;
    float acc[BATCH_TILE] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int b = lane; b < blocks; b += 32) {
        const unsigned char* blk = wr + (long)b * 34;
        float d = half_at(blk);
        const signed char* q = reinterpret_cast<const signed char*>(blk + 2);
        for (int t = 0; t < nt; t++) {
            const float* xb = xt + (long)t * cols + b * 32;
            float s = 0.0f;
            for (int j = 0; j < 32; j++) s += (float)q[j] * xb[j];
            acc[t] += d * s;
        }
    }
    store_tile(acc, out, rows, row, t0, nt);
}

extern "C" __global__ void matmul_q4_0(const unsigned char* w, const float* x, float* out, int rows, int cols, int batch) {
    int row, t0, nt;
    if (!tile_of(rows, batch, &row, &t0, &nt)) return;
    int lane = threadIdx.x & 31;
    int blocks = cols / 32;
    const unsigned char* wr = w + (long)row * blocks * 18;
    const float* xt = x + (long)t0 * cols;
    float acc[BATCH_TILE] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int b = lane; b < blocks; b += 32) {
        const unsigned char* blk = wr + (long)b * 18;
        float d = half_at(blk);
        const unsigned char* q = blk + 2;
        for (int t = 0; t < nt; t++) {
            const float* xb = xt + (long)t * cols + b * 32;
            float s = 0.0f;
            for (int j = 0; j < 16; j++) {
                s += (float)((int)(q[j] & 0x0f) - 8) * xb[j];
                s += (float)((int)(q[j] >> 4) - 8) * xb[j + 16];
            }
            acc[t] += d * s;
        }
    }
    store_tile(acc, out, rows, row, t0, nt);
}
