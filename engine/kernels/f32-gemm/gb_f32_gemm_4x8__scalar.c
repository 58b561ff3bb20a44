// gb_f32_gemm_4x8__scalar: C[4x8] (+)= A[4xK] . Bpanel[Kx8], one float at a time.
// The reference twin of gb_f32_gemm_4x8__wasmsimd and the kernel of the
// scalar wasm build. Each C element starts from C (or 0) and adds
// a[i][k] * b[k][j] in k order: the same operations, in the same order, as
// the SIMD lanes, so the two agree bit for bit (no FMA contraction: the build
// passes -ffp-contract=off natively; wasm has no FMA).
#include "../gemm.h"

__attribute__((noinline))
void gb_f32_gemm_4x8__scalar(size_t mr, size_t nr, size_t kc, const float *a, size_t lda,
                             const float *b, float *c, size_t ldc, int accumulate) {
    float acc[4][8];
    for (size_t i = 0; i < mr; i++)
        for (size_t j = 0; j < 8; j++)
            acc[i][j] = (accumulate && j < nr) ? c[i * ldc + j] : 0.0f;
    for (size_t k = 0; k < kc; k++) {
        for (size_t i = 0; i < mr; i++) {
            const float aik = a[i * lda + k];
            for (size_t j = 0; j < 8; j++) acc[i][j] += aik * b[j];
        }
        b += 8;
    }
    for (size_t i = 0; i < mr; i++)
        for (size_t j = 0; j < nr; j++) c[i * ldc + j] = acc[i][j];
}
