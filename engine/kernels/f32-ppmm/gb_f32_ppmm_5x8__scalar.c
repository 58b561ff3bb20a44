// gb_f32_ppmm_5x8__scalar: C[5x8] (+)= Apacked[5xK] . Bpanel[Kx8], one float at a time.
// The reference twin of gb_f32_ppmm_5x8__wasmsimd: A is one packed tile
// (5 values per k, gb_f32_pack_a). Each C element starts from C (or 0) and
// adds a[k][i] * b[k][j] in k order, as the SIMD lanes do, so the two (and
// the strided gb_f32_gemm_4x8 twins) agree bit for bit.
#include "../gemm.h"

__attribute__((noinline))
void gb_f32_ppmm_5x8__scalar(size_t kc, const float *a, const float *b, float *c, size_t ldc,
                             int accumulate) {
    float acc[5][8];
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 8; j++) acc[i][j] = accumulate ? c[i * ldc + j] : 0.0f;
    for (size_t k = 0; k < kc; k++, a += 5, b += 8)
        for (size_t i = 0; i < 5; i++)
            for (size_t j = 0; j < 8; j++) acc[i][j] += a[i] * b[j];
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 8; j++) c[i * ldc + j] = acc[i][j];
}
