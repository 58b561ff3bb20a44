// gemm.h: single-precision matrix multiply, the engine of conv and linear.
//
//   C[M x N] (+)= A[M x K] . B[K x N]        all row-major, leading dims lda/ldb/ldc
//
// B is first *packed* into panels of 8 columns: panel p holds, for k = 0..K-1,
// the 8 values B[k][8p .. 8p+7] contiguously (zero past column N). A
// microkernel then reads one panel front to back while it keeps a 4x8 tile of
// C in registers; see f32-gemm/gb_f32_gemm_4x8__wasmsimd.c for why that tile.
// Weights that do not change can be packed once; im2col (conv2d.c) writes
// packed panels directly.
//
// Threads: every driver below splits the output tiles over the pool's
// (ith, nth) and sums over K in blocks of a size that depends on (M, K) only,
// so each C element is produced by one thread in one fixed order: results are
// bit-identical for any thread count.
//
// Transposed forms for backward passes (Y = X.W^T style layers):
//   gb_f32_gemm_nt   C (+)= A . B^T    B given as N x K   (dW = dY . col^T)
//   gb_f32_gemm_tn   C (+)= A^T . B    A given as K x M   (dcol = W^T . dY)
#ifndef GB_GEMM_H
#define GB_GEMM_H

#include <stddef.h>

#define GB_GEMM_NR 8   // columns per packed B panel (every microkernel's width)

// Microkernel contract:
//   C[mr x nr] = (accumulate ? C : 0) + A[mr x kc] . Bpanel[kc x 8][:, :nr]
// 1 <= mr <= its tile height, 1 <= nr <= 8; `b` points into a packed panel
// (8 floats per k). Reads exactly mr rows of A and writes exactly mr x nr of C.
// Per element the products are added in k order to the initial value, so
// every microkernel, SIMD or scalar, returns bit-identical results.
typedef void (*gb_f32_gemm_ukernel)(size_t mr, size_t nr, size_t kc,
                                    const float *a, size_t lda, const float *b,
                                    float *c, size_t ldc, int accumulate);

void gb_f32_gemm_4x8__wasmsimd(size_t mr, size_t nr, size_t kc, const float *a, size_t lda,
                               const float *b, float *c, size_t ldc, int accumulate);
void gb_f32_gemm_4x8__scalar(size_t mr, size_t nr, size_t kc, const float *a, size_t lda,
                             const float *b, float *c, size_t ldc, int accumulate);
void gb_f32_gemm_6x8__wasmsimd(size_t mr, size_t nr, size_t kc, const float *a, size_t lda,
                               const float *b, float *c, size_t ldc, int accumulate);

// Packed-A ("ppmm", XNNPACK's name) microkernel contract:
//   C[5 x 8] = (accumulate ? C : 0) + Apacked[5 x kc] . Bpanel[kc x 8]
// A is one packed tile (gb_f32_pack_a): for k = 0..kc-1, the 5 values
// A[0..4][k] side by side. Full tiles only: the driver sends edge tiles
// (fewer rows or columns) through a 5x8 scratch tile. Same per-element k
// order as above, so ppmm and gemm microkernels agree bit for bit.
#define GB_PPMM_MR 5   // rows per packed A tile (every ppmm microkernel's height)
typedef void (*gb_f32_ppmm_ukernel)(size_t kc, const float *a, const float *b, float *c,
                                    size_t ldc, int accumulate);

void gb_f32_ppmm_5x8__wasmsimd(size_t kc, const float *a, const float *b, float *c, size_t ldc,
                               int accumulate);
void gb_f32_ppmm_5x8__scalar(size_t kc, const float *a, const float *b, float *c, size_t ldc,
                             int accumulate);

// The narrow form, for a B panel of at most 4 columns (a GEMM's last panel,
// or all of a thin one): C[10 x 4] = (accumulate ? C : 0) + A[10 x kc] .
// Bpanel[kc x 4], rows 0-4 from the packed tile at a, rows 5-9 from the one
// at a + a_next; B is still an 8-wide panel, its first 4 columns read. Full
// tiles only (the driver's scratch tile takes the rest). Same k order.
typedef void (*gb_f32_ppmm_narrow_ukernel)(size_t kc, const float *a, size_t a_next, const float *b,
                                           float *c, size_t ldc, int accumulate);
void gb_f32_ppmm_10x4__wasmsimd(size_t kc, const float *a, size_t a_next, const float *b, float *c,
                                size_t ldc, int accumulate);
void gb_f32_ppmm_10x4__scalar(size_t kc, const float *a, size_t a_next, const float *b, float *c,
                              size_t ldc, int accumulate);

// Floats needed to hold B (K x N) packed: ceil(N/8) panels of K x 8.
size_t gb_f32_packed_b_floats(int K, int N);
// Packs B (K x N, row-major, leading dim ldb) into panels. Threaded.
void gb_f32_pack_b(int K, int N, const float *B, int ldb, float *Bp);
// Packs B^T where B is given as N x K row-major: the GEMM then computes A . B^T.
void gb_f32_pack_bt(int K, int N, const float *B, int ldb, float *Bp);
// The same into rows [k0, k0 + K) of a packed B of K_total rows: a sum over
// several sources in one GEMM (conv dw over a group of images).
void gb_f32_pack_bt_part(int K, int N, const float *B, int ldb, float *Bp, int K_total, int k0);

// Floats needed to hold A (M x K) packed: ceil(M/5) tiles of K x 5.
size_t gb_f32_packed_a_floats(int M, int K);
// Packs A (M x K, leading dim lda) into ppmm tiles. Threaded.
void gb_f32_pack_a(int M, int K, const float *A, int lda, float *Ap);
// Packs A^T where A is given as K x M row-major: the GEMM then computes A^T . B.
void gb_f32_pack_at(int M, int K, const float *A, int lda, float *Ap);
// Packs A into columns [k0, k0 + K) of a packed A of K_total columns.
void gb_f32_pack_a_part(int M, int K, const float *A, int lda, float *Ap, int K_total, int k0);

// C (+)= A . Bp with Bp packed; bias (length N, may be NULL) is added to every
// row: C = (accumulate ? C : 0) + bias + A.B.
void gb_f32_gemm_packed(int M, int N, int K, const float *A, int lda, const float *Bp,
                        float *C, int ldc, const float *bias, int accumulate);

// The same with A packed too (operands that serve several GEMMs, such as a
// conv's weights over a batch, are packed once). Always a ppmm microkernel:
// the configuration's, or gb_f32_ppmm_5x8__scalar if it has none.
void gb_f32_gemm_ppacked(int M, int N, int K, const float *Ap, const float *Bp, float *C,
                         int ldc, const float *bias, int accumulate);

// C = Ap . bp for one B panel (K x 8 floats, packed; its first nr <= 8
// columns are C's), all M rows, on the calling thread: for callers that make
// B panel by panel (im2col fused with its GEMM, conv2d.c). The same sums in
// the same order as gb_f32_gemm_ppacked: the same bits.
void gb_f32_gemm_ppacked_panel(int M, int nr, int K, const float *Ap, const float *bp, float *C, int ldc);

// `batch` independent products C_b (+)= A_b . Bp_b of one shape, each A_b
// packed (gb_f32_pack_a layout; members `stride_*` floats apart), in one
// parallel_for: Winograd's 16 GEMMs, its weights packed once when made.
void gb_f32_gemm_ppacked_batched(int batch, int M, int N, int K, const float *Ap, size_t stride_a,
                                 const float *Bp, size_t stride_b, float *C, int ldc, size_t stride_c,
                                 int accumulate);

// Unpacked forms: they pack into `scratch` (64-byte aligned is best) first.
// gb_f32_gemm_scratch_floats(M, N, K, transA) tells how many floats.
size_t gb_f32_gemm_scratch_floats(int M, int N, int K, int transA);
void gb_f32_gemm(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                 float *C, int ldc, const float *bias, int accumulate, float *scratch);
void gb_f32_gemm_nt(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                    float *C, int ldc, const float *bias, int accumulate, float *scratch);
void gb_f32_gemm_tn(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                    float *C, int ldc, int accumulate, float *scratch);

// dst[cols x rows] = src[rows x cols]^T (src leading dim lds). Threaded.
void gb_f32_transpose(int rows, int cols, const float *src, int lds, float *dst);

// Which microkernel the drivers use (the build's twin of ppmm 5x8 by
// default, gemm.c); tests and benches switch it to compare twins and tiles.
typedef struct gb_gemm_config {
    gb_f32_gemm_ukernel ukernel;  // reads A in place (lda); used when ppmm is NULL
    int mr;                       // tile height of the microkernel
    const char *name;
    gb_f32_ppmm_ukernel ppmm;     // if set: A is packed block by block, then this runs
    gb_f32_ppmm_narrow_ukernel narrow;   // if set (with ppmm): panels of <= 4 columns
} gb_gemm_config;
const gb_gemm_config *gb_gemm_get_config(void);
void gb_gemm_set_config(const gb_gemm_config *cfg);   // NULL restores the default

// K-block size (exposed for tests/benches); depends on K only.
int gb_gemm_kc(int M, int K);

#endif
