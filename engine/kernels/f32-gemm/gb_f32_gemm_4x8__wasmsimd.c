// gb_f32_gemm_4x8__wasmsimd: C[4x8] (+)= A[4xK] . Bpanel[Kx8]
//
// The 4x8 tile of C lives in 8 v128 accumulators (vacc<row>x<cols>). Per k:
// two loads of the packed B row (8 floats), four broadcast loads of A (one
// per row, `v128.load32_splat` in wasm), eight multiplies and eight adds. The
// loads are 6 per 16 arithmetic ops and every B value is reused 4 times from a
// register, so the loop is compute-bound.
//
// Why 4x8 and not bigger: V8 gives wasm 16 vector registers on x64; 8
// accumulators + 2 B + 1-4 A registers fit, while 12+ accumulators (6x8, 3x16)
// spill and run at about half speed (TOOLCHAIN.md). Natively gcc may prefer
// 6x8 (gb_f32_gemm_6x8__wasmsimd.c): the bench measures both.
//
// Rows past mr alias row mr-1 (same A, same C), so the loop is branch-free;
// they compute identical values and are written last-to-first, leaving the
// valid row's result. Columns past nr are zero-padded in the panel and simply
// not stored. NOTE: keep this a separate, non-inlined function called many
// times: V8 optimises a function only on a later call (TOOLCHAIN.md).
// Twin: gb_f32_gemm_4x8__scalar.c (bit-identical: same k order, no FMA).
#include "../gemm.h"
#include "../gb_simd128.h"

__attribute__((noinline))
void gb_f32_gemm_4x8__wasmsimd(size_t mr, size_t nr, size_t kc, const float *a, size_t lda,
                               const float *b, float *c, size_t ldc, int accumulate) {
    const float *a0 = a;
    float *c0 = c;
    const float *a1 = a0 + lda;
    float *c1 = c0 + ldc;
    if (mr < 2) { a1 = a0; c1 = c0; }
    const float *a2 = a1 + lda;
    float *c2 = c1 + ldc;
    if (mr <= 2) { a2 = a1; c2 = c1; }
    const float *a3 = a2 + lda;
    float *c3 = c2 + ldc;
    if (mr != 4) { a3 = a2; c3 = c2; }

    v128_t vacc0x0123 = wasm_f32x4_splat(0.0f), vacc0x4567 = vacc0x0123;
    v128_t vacc1x0123 = vacc0x0123, vacc1x4567 = vacc0x0123;
    v128_t vacc2x0123 = vacc0x0123, vacc2x4567 = vacc0x0123;
    v128_t vacc3x0123 = vacc0x0123, vacc3x4567 = vacc0x0123;
    if (accumulate) {
        if (nr == 8) {
            vacc0x0123 = wasm_v128_load(c0); vacc0x4567 = wasm_v128_load(c0 + 4);
            vacc1x0123 = wasm_v128_load(c1); vacc1x4567 = wasm_v128_load(c1 + 4);
            vacc2x0123 = wasm_v128_load(c2); vacc2x4567 = wasm_v128_load(c2 + 4);
            vacc3x0123 = wasm_v128_load(c3); vacc3x4567 = wasm_v128_load(c3 + 4);
        } else {
            float t[4][8] = {{0}};
            for (size_t j = 0; j < nr; j++) {
                t[0][j] = c0[j]; t[1][j] = c1[j]; t[2][j] = c2[j]; t[3][j] = c3[j];
            }
            vacc0x0123 = wasm_v128_load(t[0]); vacc0x4567 = wasm_v128_load(t[0] + 4);
            vacc1x0123 = wasm_v128_load(t[1]); vacc1x4567 = wasm_v128_load(t[1] + 4);
            vacc2x0123 = wasm_v128_load(t[2]); vacc2x4567 = wasm_v128_load(t[2] + 4);
            vacc3x0123 = wasm_v128_load(t[3]); vacc3x4567 = wasm_v128_load(t[3] + 4);
        }
    }

    for (size_t k = 0; k < kc; k++) {
        const v128_t vb0123 = wasm_v128_load(b);
        const v128_t vb4567 = wasm_v128_load(b + 4);
        b += 8;
        const v128_t va0 = wasm_v128_load32_splat(a0++);
        const v128_t va1 = wasm_v128_load32_splat(a1++);
        const v128_t va2 = wasm_v128_load32_splat(a2++);
        const v128_t va3 = wasm_v128_load32_splat(a3++);
        vacc0x0123 = wasm_f32x4_add(vacc0x0123, wasm_f32x4_mul(va0, vb0123));
        vacc0x4567 = wasm_f32x4_add(vacc0x4567, wasm_f32x4_mul(va0, vb4567));
        vacc1x0123 = wasm_f32x4_add(vacc1x0123, wasm_f32x4_mul(va1, vb0123));
        vacc1x4567 = wasm_f32x4_add(vacc1x4567, wasm_f32x4_mul(va1, vb4567));
        vacc2x0123 = wasm_f32x4_add(vacc2x0123, wasm_f32x4_mul(va2, vb0123));
        vacc2x4567 = wasm_f32x4_add(vacc2x4567, wasm_f32x4_mul(va2, vb4567));
        vacc3x0123 = wasm_f32x4_add(vacc3x0123, wasm_f32x4_mul(va3, vb0123));
        vacc3x4567 = wasm_f32x4_add(vacc3x4567, wasm_f32x4_mul(va3, vb4567));
    }

    if (nr == 8) {
        wasm_v128_store(c3, vacc3x0123); wasm_v128_store(c3 + 4, vacc3x4567);
        wasm_v128_store(c2, vacc2x0123); wasm_v128_store(c2 + 4, vacc2x4567);
        wasm_v128_store(c1, vacc1x0123); wasm_v128_store(c1 + 4, vacc1x4567);
        wasm_v128_store(c0, vacc0x0123); wasm_v128_store(c0 + 4, vacc0x4567);
    } else {
        float t[4][8];
        wasm_v128_store(t[0], vacc0x0123); wasm_v128_store(t[0] + 4, vacc0x4567);
        wasm_v128_store(t[1], vacc1x0123); wasm_v128_store(t[1] + 4, vacc1x4567);
        wasm_v128_store(t[2], vacc2x0123); wasm_v128_store(t[2] + 4, vacc2x4567);
        wasm_v128_store(t[3], vacc3x0123); wasm_v128_store(t[3] + 4, vacc3x4567);
        for (size_t j = 0; j < nr; j++) {
            c3[j] = t[3][j]; c2[j] = t[2][j]; c1[j] = t[1][j]; c0[j] = t[0][j];
        }
    }
}
