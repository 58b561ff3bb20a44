// gb_f32_ppmm_10x4__scalar: C[10x4] (+)= Apacked[10xK] . Bpanel[Kx4 of 8], one float at a time.
// The reference twin of gb_f32_ppmm_10x4__wasmsimd: rows 0-4 from the packed
// A tile at a, rows 5-9 from the one at a + a_next, the first 4 columns of
// the 8-wide B panel. Each C element starts from C (or 0) and adds
// a[k][i] * b[k][j] in k order, as every GEMM twin does: the same bits.
#include "../gemm.h"

__attribute__((noinline))
void gb_f32_ppmm_10x4__scalar(size_t kc, const float *a, size_t a_next, const float *b, float *c,
                              size_t ldc, int accumulate) {
    float acc[10][4];
    for (size_t i = 0; i < 10; i++)
        for (size_t j = 0; j < 4; j++) acc[i][j] = accumulate ? c[i * ldc + j] : 0.0f;
    for (size_t k = 0; k < kc; k++, a += GB_PPMM_MR, b += GB_GEMM_NR)
        for (size_t i = 0; i < 10; i++) {
            const float ai = i < GB_PPMM_MR ? a[i] : a[a_next + i - GB_PPMM_MR];
            for (size_t j = 0; j < 4; j++) acc[i][j] += ai * b[j];
        }
    for (size_t i = 0; i < 10; i++)
        for (size_t j = 0; j < 4; j++) c[i * ldc + j] = acc[i][j];
}
