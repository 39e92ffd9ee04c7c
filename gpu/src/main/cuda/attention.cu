// Paged sparse attention of one query position over resident page slots (icecache.md "Moving
// pages": sink + selected + window, valid rows only), with grouped-query attention.
//
//   pool      [slot][2][rowsPerPage][headDim]   K rows then V rows of a page (PageLayout)
//   pageSlot  [kvHead][maxPages]                slot of the e-th attended page of a KV head
//   pageRows  [kvHead][maxPages]                its valid rows (a prefix of the page's rows)
//   pageCount [kvHead]                          attended pages of the KV head (>= 1)
//   q, out    [nHeads][headDim]                 query head qh reads KV head qh / group
//   att       [nHeads][maxPages*rowsPerPage]    scratch: scores, then softmax weights
//
// grid = (nHeads), block = 128 (AttentionLaunch.java). Row i of a head's list is row i % rowsPerPage
// of page i / rowsPerPage; rows at or past the page's valid count get weight 0.
// The host lists only rows at positions <= the query's (sink and window pages are filled in
// position order, so a prefix count does it; retrieved pages hold only older positions).
#include "common.cuh"

// Pools hold float (F32 pages) or unsigned short (BF16 pages, the _bf16 kernels): element type T,
// read through page_value (common.cuh); every product and sum is float32.
//
// One block's work, shared by every kernel: query row qv of a head whose KV head's page table is
// (slots, valid, first, count) attends to the rows it sees at `position` (first == nullptr: every
// valid row, as a decode step), softmax-weighted values to o, scores and weights in a.
template <typename T>
__device__ __forceinline__ void attend_pages(const T* pool, const int* slots, const int* valid,
                                             const int* first, int count, const float* qv, float* o, float* a,
                                             int headDim, int rowsPerPage, int position, float scale,
                                             float* scratch) {
    int n = count * rowsPerPage;
    long floatsPerPage = 2L * rowsPerPage * headDim;

    float localMax = -INFINITY;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        int e = i / rowsPerPage;
        int r = i % rowsPerPage;
        float s = -INFINITY;
        if (r < valid[e] && (first == nullptr || first[e] < 0 || first[e] + r <= position)) {
            long k = slots[e] * floatsPerPage + (long)r * headDim;
            float dot = 0.0f;
            for (int d = 0; d < headDim; d++) dot += qv[d] * page_value(pool, k + d);
            s = dot * scale;
        }
        a[i] = s;
        localMax = fmaxf(localMax, s);
    }
    float max = block_max(localMax, scratch);

    float localSum = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float e = a[i] == -INFINITY ? 0.0f : expf(a[i] - max);
        a[i] = e;
        localSum += e;
    }
    float inv = 1.0f / block_sum(localSum, scratch);  // block_sum's barriers also publish a[]
    __syncthreads();

    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        float acc = 0.0f;
        for (int i = 0; i < n; i++) {
            float w = a[i];
            if (w != 0.0f) {
                int e = i / rowsPerPage;
                int r = i % rowsPerPage;
                acc += (w * inv) * page_value(pool, slots[e] * floatsPerPage + (long)(rowsPerPage + r) * headDim + d);
            }
        }
        o[d] = acc;
    }
}

extern "C" __global__ void paged_attention(const float* pool, const int* pageSlot, const int* pageRows,
                                           const int* pageCount, const float* q, float* out, float* att,
                                           int group, int headDim, int rowsPerPage, int maxPages, float scale) {
    __shared__ float scratch[32];
    int qh = blockIdx.x;
    int kvh = qh / group;
    attend_pages(pool, pageSlot + (long)kvh * maxPages, pageRows + (long)kvh * maxPages, nullptr, pageCount[kvh],
                 q + (long)qh * headDim, out + (long)qh * headDim, att + (long)qh * maxPages * rowsPerPage,
                 headDim, rowsPerPage, 0, scale, scratch);
}

// Causal paged attention of a block of T query positions (a prefill chunk) over one page table
// shared by the block: the sink, the pages selected for the block, and the window and chunk pages,
// which hold the block's own rows. Query t sits at position p0 + t and sees row r of page e when
// r < pageRows[e] and (pageFirst[e] < 0 || pageFirst[e] + r <= p0 + t): positional pages (sink,
// window, chunk) give the position of their row 0; a page whose rows all precede the block (a
// retrieved page) gives -1.
//
//   pageFirst [kvHead][maxPages]            as above
//   q, out    [T][nHeads][headDim]
//   att       [T][nHeads][maxPages*rowsPerPage]
//
// grid = (nHeads, T), block = 128 (PrefillAttentionLaunch.java); otherwise as paged_attention.
template <typename T>
__device__ __forceinline__ void attend_block(const T* pool, const int* pageSlot, const int* pageRows,
                                             const int* pageFirst, const int* pageCount, const float* q, float* out,
                                             float* att, int group, int headDim, int rowsPerPage, int maxPages,
                                             int nHeads, int p0, float scale) {
    __shared__ float scratch[32];
    int qh = blockIdx.x;
    int t = blockIdx.y;
    int kvh = qh / group;
    long row = (long)t * nHeads + qh;
    long table = (long)kvh * maxPages;
    attend_pages(pool, pageSlot + table, pageRows + table, pageFirst + table, pageCount[kvh], q + row * headDim,
                 out + row * headDim, att + row * maxPages * rowsPerPage, headDim, rowsPerPage, p0 + t, scale,
                 scratch);
}

extern "C" __global__ void paged_attention_prefill(const float* pool, const int* pageSlot, const int* pageRows,
                                                   const int* pageFirst, const int* pageCount, const float* q,
                                                   float* out, float* att, int group, int headDim,
                                                   int rowsPerPage, int maxPages, int nHeads, int p0, float scale) {
    attend_block(pool, pageSlot, pageRows, pageFirst, pageCount, q, out, att, group, headDim, rowsPerPage, maxPages,
                 nHeads, p0, scale);
}

// paged_attention_prefill over a BF16 pool (2-byte elements): the device-resident decode's kernel
// for the default page format (a decode step is a block of one query).
extern "C" __global__ void paged_attention_prefill_bf16(const unsigned short* pool, const int* pageSlot,
                                                        const int* pageRows, const int* pageFirst,
                                                        const int* pageCount, const float* q, float* out, float* att,
                                                        int group, int headDim, int rowsPerPage, int maxPages,
                                                        int nHeads, int p0, float scale) {
    attend_block(pool, pageSlot, pageRows, pageFirst, pageCount, q, out, att, group, headDim, rowsPerPage, maxPages,
                 nHeads, p0, scale);
}
