// gemm.c: packing and the blocked, threaded GEMM driver (contract in gemm.h).
//
// Loop nest over one unit of work, a block of C (GotoBLAS order):
//   for each K block [k0, k0+kc)          kc from K only: a fixed summation order
//     for each block of mc rows of A      mc x kc of A (~192 KiB) stays in L2
//       [pack the block: 5-row tiles]     unless A came packed (gb_f32_gemm_ppacked)
//       for each B panel p (8 columns)    kc x 8 of B (<= 16 KiB) stays in L1
//         for each 5-row tile (4 strided) in the block
//           ukernel(tile, panel, accumulate = k0 > 0 || caller's accumulate)
// The microkernel keeps its C tile in registers for a whole K block, so C is
// read and written once per block, not once per k. Packed A lets one pointer
// walk the tile (5 broadcasts at constant offsets): in V8 that is what makes
// room for a fifth row (gb_f32_ppmm_5x8__wasmsimd.c).
#include "gemm.h"
#include "kernels.h"
#include "gb_simd128.h"

#include "../core/gb_status.h"
#include "../threads/gb_pool.h"

#include <stdatomic.h>
#include <string.h>

// --- configuration ----------------------------------------------------------

// The default microkernel is the build's twin of ppmm 5x8 (kernels.h):
// packed A, in every build. With SIMD, in V8 it beats the strided 4x8 by
// ~1.25x (one pointer walks A, which frees the registers for a fifth row;
// 6x8's 12 accumulators spill); the scalar twin ran at 4.2 GF/s in V8
// against 3.4 for the strided 4x8. Tests and benches may switch it.
#ifdef GB_KERNELS_SIMD
static const gb_gemm_config default_config = { NULL, GB_PPMM_MR, "ppmm 5x8__wasmsimd", gb_f32_ppmm_5x8__wasmsimd,
                                                gb_f32_ppmm_10x4__wasmsimd };
#else
static const gb_gemm_config default_config = { NULL, GB_PPMM_MR, "ppmm 5x8__scalar", gb_f32_ppmm_5x8__scalar,
                                                gb_f32_ppmm_10x4__scalar };
#endif
static const gb_gemm_config *config = &default_config;

static const gb_gemm_config *current(void) { return config; }

const gb_gemm_config *gb_gemm_get_config(void) { return config; }
void gb_gemm_set_config(const gb_gemm_config *cfg) { config = cfg ? cfg : &default_config; }

int gb_gemm_kc(int M, int K) {
    // A B-panel block kc x 8 floats: kc = 512 is 16 KiB, half of L1, and long
    // enough that the C tile's load and store per call cost ~1%. K is cut in
    // equal blocks. Depends on K only (M is unused: kept for the API), so the
    // summation order never changes with the thread split.
    (void)M;
    const int kc = 512;
    if (K <= kc) return K;
    int nblocks = (K + kc - 1) / kc;
    return (K + nblocks - 1) / nblocks;
}

#define GEMM_A_BLOCK (48 * 1024)   // floats of one A block (packed or not)

// Rows of A per block: mc x kc floats near 192 KiB, so the block stays in
// L2 while all the B panels of the thread's slab stream past it. A whole
// number of tile pairs, for the narrow kernel's 10 rows.
static int gemm_mc(int kc, int mr) {
    int mc = GEMM_A_BLOCK / (kc > 0 ? kc : 1);
    mc -= mc % (2 * mr);
    return mc < mr ? mr : mc;
}

// --- packing -------------------------------------------------------------------

size_t gb_f32_packed_b_floats(int K, int N) {
    return (size_t)((N + GB_GEMM_NR - 1) / GB_GEMM_NR) * (size_t)K * GB_GEMM_NR;
}

typedef struct pack_job {
    int K, N, ldb, transposed;
    const float *B;
    float *Bp;
    int K_total, k0;   // writes rows [k0, k0 + K) of a packed B of K_total rows
    gb_take_counter taken;   // chunks taken so far (gb_pool_take)
} pack_job;

// B^T panel, full width: panel column c is row c of the given N x K matrix
// (rows[c] = B + c*ldb). 4 k at a time, two 4x4 transposes in registers.
static void pack_bt_panel8(const float *b, size_t ldb, int K, float *dst) {
    int k = 0;
    for (; k + 4 <= K; k += 4, dst += 4 * GB_GEMM_NR) {
        for (int h = 0; h < 2; h++) {   // columns 0-3, then 4-7
            const float *r = b + (size_t)(4 * h) * ldb + k;
            const v128_t v0 = wasm_v128_load(r), v1 = wasm_v128_load(r + ldb);
            const v128_t v2 = wasm_v128_load(r + 2 * ldb), v3 = wasm_v128_load(r + 3 * ldb);
            const v128_t lo01 = wasm_i32x4_shuffle(v0, v1, 0, 4, 1, 5);
            const v128_t lo23 = wasm_i32x4_shuffle(v2, v3, 0, 4, 1, 5);
            const v128_t hi01 = wasm_i32x4_shuffle(v0, v1, 2, 6, 3, 7);
            const v128_t hi23 = wasm_i32x4_shuffle(v2, v3, 2, 6, 3, 7);
            wasm_v128_store(dst + 4 * h, wasm_i32x4_shuffle(lo01, lo23, 0, 1, 4, 5));
            wasm_v128_store(dst + 4 * h + 8, wasm_i32x4_shuffle(lo01, lo23, 2, 3, 6, 7));
            wasm_v128_store(dst + 4 * h + 16, wasm_i32x4_shuffle(hi01, hi23, 0, 1, 4, 5));
            wasm_v128_store(dst + 4 * h + 24, wasm_i32x4_shuffle(hi01, hi23, 2, 3, 6, 7));
        }
    }
    for (; k < K; k++, dst += GB_GEMM_NR)
        for (int c = 0; c < GB_GEMM_NR; c++) dst[c] = b[(size_t)c * ldb + k];
}

// Threads take runs of panels (gb_pool_take).
static void pack_task(void *ctx, int ith, int nth) {
    pack_job *j = ctx;
    const int np = (j->N + GB_GEMM_NR - 1) / GB_GEMM_NR;
    int p0, p1;
    while (gb_pool_take(&j->taken, np, ith, nth, &p0, &p1)) {
        for (int p = p0; p < p1; p++) {
            float *dst = j->Bp + ((size_t)p * j->K_total + j->k0) * GB_GEMM_NR;
            const int n0 = p * GB_GEMM_NR;
            const int w = j->N - n0 < GB_GEMM_NR ? j->N - n0 : GB_GEMM_NR;
            if (!j->transposed) {
                // B[k][n0 .. n0+w) is contiguous: one short copy per k.
                const float *src = j->B + n0;
                for (int k = 0; k < j->K; k++, dst += GB_GEMM_NR, src += j->ldb) {
                    if (w == GB_GEMM_NR) memcpy(dst, src, GB_GEMM_NR * sizeof(float));
                    else {
                        memset(dst, 0, GB_GEMM_NR * sizeof(float));
                        memcpy(dst, src, (size_t)w * sizeof(float));
                    }
                }
            } else if (w == GB_GEMM_NR) {
                pack_bt_panel8(j->B + (size_t)n0 * j->ldb, (size_t)j->ldb, j->K, dst);
            } else {
                // B^T: panel column c is row n0+c of the given N x K matrix.
                const float *rows[GB_GEMM_NR];
                for (int c = 0; c < GB_GEMM_NR; c++)
                    rows[c] = c < w ? j->B + (size_t)(n0 + c) * j->ldb : NULL;
                for (int k = 0; k < j->K; k++, dst += GB_GEMM_NR)
                    for (int c = 0; c < GB_GEMM_NR; c++) dst[c] = c < w ? rows[c][k] : 0.0f;
            }
        }
    }
}

void gb_f32_pack_b(int K, int N, const float *B, int ldb, float *Bp) {
    pack_job j = { K, N, ldb, 0, B, Bp, K, 0, 0 };
    gb_parallel_for(pack_task, &j);
}

void gb_f32_pack_bt(int K, int N, const float *B, int ldb, float *Bp) {
    pack_job j = { K, N, ldb, 1, B, Bp, K, 0, 0 };
    gb_parallel_for(pack_task, &j);
}

void gb_f32_pack_bt_part(int K, int N, const float *B, int ldb, float *Bp, int K_total, int k0) {
    GB_ASSERT(k0 >= 0 && k0 + K <= K_total, "rows %d..%d of %d", k0, k0 + K, K_total);
    pack_job j = { K, N, ldb, 1, B, Bp, K_total, k0, 0 };
    gb_parallel_for(pack_task, &j);
}

// --- packing A for the ppmm microkernels -----------------------------------------

size_t gb_f32_packed_a_floats(int M, int K) {
    return (size_t)((M + GB_PPMM_MR - 1) / GB_PPMM_MR) * GB_PPMM_MR * (size_t)K;
}

// One tile: rows A[0..h) (h <= 5, leading dim lda), columns [0, kc), written
// as kc groups of 5 (rows past h are zero). A full tile goes 4 k at a time:
// rows 0-3 by a 4x4 transpose in registers, row 4 lane by lane.
static void pack_a_tile(const float *a0, size_t lda, int h, int kc, float *dst) {
    int k = 0;
    if (h == GB_PPMM_MR) {
        const float *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda, *a4 = a3 + lda;
        for (; k + 4 <= kc; k += 4, dst += 4 * GB_PPMM_MR) {
            const v128_t v0 = wasm_v128_load(a0 + k), v1 = wasm_v128_load(a1 + k);
            const v128_t v2 = wasm_v128_load(a2 + k), v3 = wasm_v128_load(a3 + k);
            const v128_t v4 = wasm_v128_load(a4 + k);
            const v128_t lo01 = wasm_i32x4_shuffle(v0, v1, 0, 4, 1, 5);
            const v128_t lo23 = wasm_i32x4_shuffle(v2, v3, 0, 4, 1, 5);
            const v128_t hi01 = wasm_i32x4_shuffle(v0, v1, 2, 6, 3, 7);
            const v128_t hi23 = wasm_i32x4_shuffle(v2, v3, 2, 6, 3, 7);
            wasm_v128_store(dst, wasm_i32x4_shuffle(lo01, lo23, 0, 1, 4, 5));
            dst[4] = wasm_f32x4_extract_lane(v4, 0);
            wasm_v128_store(dst + 5, wasm_i32x4_shuffle(lo01, lo23, 2, 3, 6, 7));
            dst[9] = wasm_f32x4_extract_lane(v4, 1);
            wasm_v128_store(dst + 10, wasm_i32x4_shuffle(hi01, hi23, 0, 1, 4, 5));
            dst[14] = wasm_f32x4_extract_lane(v4, 2);
            wasm_v128_store(dst + 15, wasm_i32x4_shuffle(hi01, hi23, 2, 3, 6, 7));
            dst[19] = wasm_f32x4_extract_lane(v4, 3);
        }
    }
    for (; k < kc; k++, dst += GB_PPMM_MR)
        for (int i = 0; i < GB_PPMM_MR; i++) dst[i] = i < h ? a0[(size_t)i * lda + k] : 0.0f;
}

typedef struct pack_a_job {
    int M, K, lda, transposed;
    const float *A;
    float *Ap;
    int K_total, k0;   // writes columns [k0, k0 + K) of a packed A of K_total columns
    gb_take_counter taken;   // chunks taken so far (gb_pool_take)
} pack_a_job;

// Threads take runs of tiles (gb_pool_take), all of K for each.
static void pack_a_task(void *ctx, int ith, int nth) {
    pack_a_job *j = ctx;
    const int nt = (j->M + GB_PPMM_MR - 1) / GB_PPMM_MR;
    int t0, t1;
    while (gb_pool_take(&j->taken, nt, ith, nth, &t0, &t1)) {
        for (int t = t0; t < t1; t++) {
            const int m0 = t * GB_PPMM_MR, h = j->M - m0 < GB_PPMM_MR ? j->M - m0 : GB_PPMM_MR;
            float *dst = j->Ap + ((size_t)t * j->K_total + j->k0) * GB_PPMM_MR;
            if (!j->transposed) {
                pack_a_tile(j->A + (size_t)m0 * j->lda, (size_t)j->lda, h, j->K, dst);
            } else {   // A^T given (K x M): the 5 values of each k are contiguous
                const float *src = j->A + m0;
                for (int k = 0; k < j->K; k++, src += j->lda, dst += GB_PPMM_MR)
                    for (int i = 0; i < GB_PPMM_MR; i++) dst[i] = i < h ? src[i] : 0.0f;
            }
        }
    }
}

void gb_f32_pack_a(int M, int K, const float *A, int lda, float *Ap) {
    pack_a_job j = { M, K, lda, 0, A, Ap, K, 0, 0 };
    gb_parallel_for(pack_a_task, &j);
}

void gb_f32_pack_at(int M, int K, const float *A, int lda, float *Ap) {
    pack_a_job j = { M, K, lda, 1, A, Ap, K, 0, 0 };
    gb_parallel_for(pack_a_task, &j);
}

void gb_f32_pack_a_part(int M, int K, const float *A, int lda, float *Ap, int K_total, int k0) {
    GB_ASSERT(k0 >= 0 && k0 + K <= K_total, "columns %d..%d of %d", k0, k0 + K, K_total);
    pack_a_job j = { M, K, lda, 0, A, Ap, K_total, k0, 0 };
    gb_parallel_for(pack_a_task, &j);
}

// --- the driver -----------------------------------------------------------------

typedef struct gemm_job {
    int M, N, K, lda, ldc, accumulate;
    const float *A, *Bp, *bias;
    float *C;
    gb_f32_gemm_ukernel ukernel;
    gb_f32_ppmm_ukernel ppmm;           // if set, used instead of ukernel on packed A
    gb_f32_ppmm_narrow_ukernel narrow;  // if set, with ppmm: panels of <= 4 columns
    int mr;
    int a_packed;                       // A is already packed (gb_f32_pack_a), lda unused
    int batch;                          // independent GEMMs of the same shape
    size_t stride_a, stride_b, stride_c;
    gb_take_counter taken;              // dynamic schedule: items taken so far (gb_pool_take)
} gemm_job;

// A block packed for a ppmm microkernel: tiles of mr rows, each holding for
// k = 0..kc-1 the mr values A[row][k0 + k] side by side (zero past the last
// row). One per thread (nested parallel_fors run inline on the same thread,
// so a thread never packs two blocks at once); mc x kc <= GEMM_A_BLOCK.
static _Thread_local float a_block[GEMM_A_BLOCK] __attribute__((aligned(64)));

static void pack_a_block(const float *A, size_t lda, int rows, int kc, float *dst) {
    for (int t = 0; t < rows; t += GB_PPMM_MR, dst += (size_t)GB_PPMM_MR * kc)
        pack_a_tile(A + (size_t)t * lda, lda, rows - t < GB_PPMM_MR ? rows - t : GB_PPMM_MR, kc, dst);
}

// An edge tile (rows < 5 or nr < 8) through a full scratch tile: the ppmm
// microkernels stay branch-free (gemm.h).
// NOTE: whole rows (nr = 8, the usual edge: M = 64 leaves 4 rows) move as
// two vectors each; as loops, clang made them memcpy calls, which cost more
// than the tile's products (a profile of layer1's Winograd GEMMs).
static void ppmm_edge(gb_f32_ppmm_ukernel ppmm, size_t rows, size_t nr, size_t kc, const float *a,
                      const float *b, float *c, size_t ldc, int accumulate) {
    float t[GB_PPMM_MR * GB_GEMM_NR] __attribute__((aligned(16)));   // without accumulate the kernel only writes it
    if (accumulate) {
        memset(t, 0, sizeof t);   // lanes past rows x nr: read by the kernel, never stored
        for (size_t i = 0; i < rows; i++) {
            if (nr == GB_GEMM_NR) {
                wasm_v128_store(t + i * GB_GEMM_NR, wasm_v128_load(c + i * ldc));
                wasm_v128_store(t + i * GB_GEMM_NR + 4, wasm_v128_load(c + i * ldc + 4));
                continue;
            }
            for (size_t jj = 0; jj < nr; jj++) t[i * GB_GEMM_NR + jj] = c[i * ldc + jj];
        }
    }
    ppmm(kc, a, b, t, GB_GEMM_NR, accumulate);
    for (size_t i = 0; i < rows; i++) {
        if (nr == GB_GEMM_NR) {
            wasm_v128_store(c + i * ldc, wasm_v128_load(t + i * GB_GEMM_NR));
            wasm_v128_store(c + i * ldc + 4, wasm_v128_load(t + i * GB_GEMM_NR + 4));
            continue;
        }
        for (size_t jj = 0; jj < nr; jj++) c[i * ldc + jj] = t[i * GB_GEMM_NR + jj];
    }
}

// rows (up to 10) x nr (<= 4) of C by the narrow kernel: a full tile
// straight into C, an edge one through a scratch tile. With 5 rows or fewer
// the second A tile may not exist: the kernel reads the first one twice and
// rows 5-9 are dropped.
static void narrow_tile(gb_f32_ppmm_narrow_ukernel narrow, size_t rows, size_t nr, size_t kc, const float *a,
                        size_t a_next, const float *b, float *c, size_t ldc, int accumulate) {
    if (rows >= 2 * GB_PPMM_MR && nr == 4) { narrow(kc, a, a_next, b, c, ldc, accumulate); return; }
    if (rows > 2 * GB_PPMM_MR) rows = 2 * GB_PPMM_MR;
    float t[2 * GB_PPMM_MR * 4] __attribute__((aligned(16)));
    if (accumulate) {
        memset(t, 0, sizeof t);   // lanes past rows x nr: read by the kernel, never stored
        for (size_t i = 0; i < rows; i++)
            for (size_t jj = 0; jj < nr; jj++) t[i * 4 + jj] = c[i * ldc + jj];
    }
    narrow(kc, a, rows > GB_PPMM_MR ? a_next : 0, b, t, 4, accumulate);
    for (size_t i = 0; i < rows; i++)
        for (size_t jj = 0; jj < nr; jj++) c[i * ldc + jj] = t[i * 4 + jj];
}

// C[m0:m1, panels p0:p1] of one GEMM: the blocked loop nest at the top of
// this file. Every element gets its whole K sum here, in K-block order.
static void gemm_block(const gemm_job *j, const float *A, const float *Bp, float *C,
                       int m0, int m1, int p0, int p1) {
    const int mr = j->mr;
    int acc = j->accumulate;
    if (j->bias) {   // C = (C or 0) + bias, then the products accumulate on top
        const int n1 = p1 * GB_GEMM_NR < j->N ? p1 * GB_GEMM_NR : j->N;
        for (int m = m0; m < m1; m++) {
            float *c = C + (size_t)m * j->ldc;
            for (int n = p0 * GB_GEMM_NR; n < n1; n++) c[n] = (acc ? c[n] : 0.0f) + j->bias[n];
        }
        acc = 1;
    }
    const int kc_max = gb_gemm_kc(j->M, j->K), mc = gemm_mc(kc_max, mr);
    for (int k0 = 0; k0 < j->K; k0 += kc_max) {
        const size_t kc = (size_t)(j->K - k0 < kc_max ? j->K - k0 : kc_max);
        for (int mb = m0; mb < m1; mb += mc) {
            const int mb1 = mb + mc < m1 ? mb + mc : m1;
            if (j->ppmm && !j->a_packed)
                pack_a_block(A + (size_t)mb * j->lda + k0, (size_t)j->lda, mb1 - mb, (int)kc, a_block);
            for (int p = p0; p < p1; p++) {
                const float *bp = Bp + (size_t)p * j->K * GB_GEMM_NR + (size_t)k0 * GB_GEMM_NR;
                const size_t nr = (size_t)(j->N - p * GB_GEMM_NR < GB_GEMM_NR ? j->N - p * GB_GEMM_NR : GB_GEMM_NR);
                float *cp = C + p * GB_GEMM_NR;
                if (j->narrow && nr <= 4) {   // tile pairs (10 rows) x 4 columns
                    const size_t a_next = GB_PPMM_MR * (j->a_packed ? (size_t)j->K : kc);
                    for (int m = mb; m < mb1; m += 2 * GB_PPMM_MR) {
                        const float *at = j->a_packed ? A + (size_t)m * j->K + (size_t)k0 * GB_PPMM_MR
                                                      : a_block + (size_t)(m - mb) * kc;
                        narrow_tile(j->narrow, (size_t)(mb1 - m), nr, kc, at, a_next, bp, cp + (size_t)m * j->ldc,
                                    (size_t)j->ldc, acc || k0 > 0);
                    }
                    continue;
                }
                for (int m = mb; m < mb1; m += mr) {
                    const size_t rows = (size_t)(mb1 - m < mr ? mb1 - m : mr);
                    if (j->ppmm) {   // tile (m / 5) of the whole packed A, or of this block
                        const float *at = j->a_packed ? A + (size_t)m * j->K + (size_t)k0 * GB_PPMM_MR
                                                      : a_block + (size_t)(m - mb) * kc;
                        float *ct = cp + (size_t)m * j->ldc;
                        if (rows == GB_PPMM_MR && nr == GB_GEMM_NR) j->ppmm(kc, at, bp, ct, (size_t)j->ldc, acc || k0 > 0);
                        else ppmm_edge(j->ppmm, rows, nr, kc, at, bp, ct, (size_t)j->ldc, acc || k0 > 0);
                    }
                    else
                        j->ukernel(rows, nr, kc, A + (size_t)m * j->lda + k0, (size_t)j->lda, bp,
                                   cp + (size_t)m * j->ldc, (size_t)j->ldc, acc || k0 > 0);
                }
            }
        }
    }
}

// Work is cut into items (a panel x all rows when N is wide, else a row tile
// x all panels; the batch's GEMMs one after the other), and threads take
// runs of items from a shared counter (gb_pool_take: large runs first,
// small ones at the end): a thread slowed down by the OS (a busy machine, a
// browser tab) simply takes fewer. Which thread computes an item does not
// change how its elements are summed, so results stay bit-identical for any
// thread count and any schedule.
static void gemm_task(void *ctx, int ith, int nth) {
    gemm_job *j = ctx;
    const int mr = j->mr;
    const int n_panels = (j->N + GB_GEMM_NR - 1) / GB_GEMM_NR;
    const int m_tiles = (j->M + mr - 1) / mr;
    const int by_panels = n_panels >= 4 * nth || n_panels >= m_tiles;
    const int span = by_panels ? n_panels : m_tiles;
    int lo, hi;
    while (gb_pool_take(&j->taken, span * j->batch, ith, nth, &lo, &hi))
        for (int i = lo; i < hi;) {   // a run may cross from one GEMM of the batch to the next
            const int b = i / span, i0 = i % span, i1 = hi - b * span < span ? hi - b * span : span;
            const float *A = j->A + b * j->stride_a, *Bp = j->Bp + b * j->stride_b;
            float *C = j->C + b * j->stride_c;
            if (by_panels) gemm_block(j, A, Bp, C, 0, j->M, i0, i1);
            else gemm_block(j, A, Bp, C, i0 * mr, i1 * mr < j->M ? i1 * mr : j->M, 0, n_panels);
            i = b * span + i1;
        }
}

#ifdef GB_PROFILE_PASSES
#include <stdio.h>
// Profiling builds (bench/passes.mjs): each GEMM shape is timed as a pass of
// its own, "gemm MxNxK bB" (named only when it is timed: not when nested).
static void run_gemm(gemm_job *j) {
    char name[48] = "gemm_task";
    if (gb_pool_passes_outermost()) snprintf(name, sizeof name, "gemm %dx%dx%d b%d", j->M, j->N, j->K, j->batch);
    gb_parallel_for_named(gemm_task, j, name);
}
#else
static void run_gemm(gemm_job *j) { gb_parallel_for(gemm_task, j); }
#endif

// A configuration's narrow kernel, only with its own ppmm (tests' configs may have none).
static gb_f32_ppmm_narrow_ukernel narrow_ukernel(const gb_gemm_config *cfg) {
    return cfg->ppmm ? cfg->narrow : NULL;
}

void gb_f32_gemm_packed(int M, int N, int K, const float *A, int lda, const float *Bp,
                        float *C, int ldc, const float *bias, int accumulate) {
    GB_ASSERT(M >= 0 && N >= 0 && K >= 0 && lda >= K && ldc >= N, "M=%d N=%d K=%d lda=%d ldc=%d", M, N, K, lda, ldc);
    if (M == 0 || N == 0) return;
    if (K == 0) {   // empty sum: C = (C or 0) + bias
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++)
                C[(size_t)m * ldc + n] = (accumulate ? C[(size_t)m * ldc + n] : 0.0f) + (bias ? bias[n] : 0.0f);
        return;
    }
    const gb_gemm_config *cfg = current();
    GB_ASSERT(!cfg->ppmm || cfg->mr == GB_PPMM_MR, "ppmm tile height %d != %d", cfg->mr, GB_PPMM_MR);
    gemm_job j = { M, N, K, lda, ldc, accumulate, A, Bp, bias, C, cfg->ukernel, cfg->ppmm, narrow_ukernel(cfg), cfg->mr, 0, 1, 0, 0, 0, 0 };
    run_gemm(&j);
}

// The ppmm microkernel of the current configuration, or the scalar twin when
// it reads A in place (tests' strided configs): same bits either way.
static gb_f32_ppmm_ukernel ppmm_ukernel(const gb_gemm_config *cfg) {
    GB_ASSERT(!cfg->ppmm || cfg->mr == GB_PPMM_MR, "ppmm tile height %d != %d", cfg->mr, GB_PPMM_MR);
    return cfg->ppmm ? cfg->ppmm : gb_f32_ppmm_5x8__scalar;
}

void gb_f32_gemm_ppacked(int M, int N, int K, const float *Ap, const float *Bp, float *C,
                         int ldc, const float *bias, int accumulate) {
    GB_ASSERT(M > 0 && N > 0 && K > 0 && ldc >= N, "M=%d N=%d K=%d ldc=%d", M, N, K, ldc);
    gemm_job j = { M, N, K, K, ldc, accumulate, Ap, Bp, bias, C, NULL, ppmm_ukernel(current()), narrow_ukernel(current()),
                   GB_PPMM_MR, 1, 1, 0, 0, 0, 0 };
    run_gemm(&j);
}

void gb_f32_gemm_ppacked_panel(int M, int nr, int K, const float *Ap, const float *bp, float *C, int ldc) {
    GB_ASSERT(M > 0 && nr > 0 && nr <= GB_GEMM_NR && K > 0 && ldc >= nr, "M=%d nr=%d K=%d ldc=%d", M, nr, K, ldc);
    const gemm_job j = { M, nr, K, K, ldc, 0, Ap, bp, NULL, C, NULL, ppmm_ukernel(current()), narrow_ukernel(current()),
                         GB_PPMM_MR, 1, 1, 0, 0, 0, 0 };
    gemm_block(&j, Ap, bp, C, 0, M, 0, 1);
}

void gb_f32_gemm_ppacked_batched(int batch, int M, int N, int K, const float *Ap, size_t stride_a,
                                 const float *Bp, size_t stride_b, float *C, int ldc, size_t stride_c,
                                 int accumulate) {
    GB_ASSERT(M > 0 && N > 0 && K > 0 && ldc >= N && batch >= 0, "M=%d N=%d K=%d", M, N, K);
    gemm_job j = { M, N, K, K, ldc, accumulate, Ap, Bp, NULL, C, NULL, ppmm_ukernel(current()), narrow_ukernel(current()),
                   GB_PPMM_MR, 1, batch, stride_a, stride_b, stride_c, 0 };
    run_gemm(&j);
}

// --- unpacked and transposed forms ---------------------------------------------

size_t gb_f32_gemm_scratch_floats(int M, int N, int K, int transA) {
    size_t n = gb_f32_packed_b_floats(K, N);
    if (transA) n += (size_t)M * K + 16;   // A^T, kept 64-byte aligned after B
    return n;
}

void gb_f32_gemm(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                 float *C, int ldc, const float *bias, int accumulate, float *scratch) {
    gb_f32_pack_b(K, N, B, ldb, scratch);
    gb_f32_gemm_packed(M, N, K, A, lda, scratch, C, ldc, bias, accumulate);
}

void gb_f32_gemm_nt(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                    float *C, int ldc, const float *bias, int accumulate, float *scratch) {
    gb_f32_pack_bt(K, N, B, ldb, scratch);
    gb_f32_gemm_packed(M, N, K, A, lda, scratch, C, ldc, bias, accumulate);
}

typedef struct transpose_job {
    int rows, cols, lds;          // src is rows x cols (leading dim lds); dst is cols x rows
    const float *src;
    float *dst;
} transpose_job;

// dst[c][r] = src[r][c], in 8x8 blocks so both sides touch few cache lines;
// each thread owns a range of destination rows.
static void transpose_task(void *ctx, int ith, int nth) {
    const transpose_job *t = ctx;
    int c0, c1;
    gb_pool_share((t->cols + 7) / 8, ith, nth, &c0, &c1);
    for (int cb = c0 * 8; cb < c1 * 8 && cb < t->cols; cb += 8)
        for (int rb = 0; rb < t->rows; rb += 8)
            for (int c = cb; c < cb + 8 && c < t->cols; c++)
                for (int r = rb; r < rb + 8 && r < t->rows; r++)
                    t->dst[(size_t)c * t->rows + r] = t->src[(size_t)r * t->lds + c];
}

void gb_f32_transpose(int rows, int cols, const float *src, int lds, float *dst) {
    transpose_job t = { rows, cols, lds, src, dst };
    gb_parallel_for(transpose_task, &t);
}

void gb_f32_gemm_tn(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                    float *C, int ldc, int accumulate, float *scratch) {
    float *bp = scratch;
    float *at = scratch + ((gb_f32_packed_b_floats(K, N) + 15) & ~(size_t)15);
    gb_f32_transpose(K, M, A, lda, at);
    gb_f32_pack_b(K, N, B, ldb, bp);
    gb_f32_gemm_packed(M, N, K, at, K, bp, C, ldc, NULL, accumulate);
}
