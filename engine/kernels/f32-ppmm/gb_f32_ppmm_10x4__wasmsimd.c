// gb_f32_ppmm_10x4__wasmsimd: C[10x4] (+)= Apacked[10xK] . Bpanel[Kx4 of 8]
//
// The narrow twin of gb_f32_ppmm_5x8 for a B panel with at most 4 columns
// (a GEMM whose N is 4 mod 8 or less: layer4's Winograd F(4x4) at batch 1
// has 4 tiles). The 5x8 kernel would multiply 4 columns of zeros; this one
// takes two packed A tiles (rows 0-4 at a, rows 5-9 at a + a_next) against
// the panel's first 4 columns: the same ten multiplies and adds per k, all
// of them useful, and each A tile is read once for the panel.
//
// Per k: one load of B, ten broadcasts, ten multiplies and ten adds into 10
// v128 accumulators (+1 B, +1 A: 12 registers, no spills in V8).
// Full tiles only (10 rows, 4 columns): the driver sends the others through
// a scratch tile (gemm.c). Twin: gb_f32_ppmm_10x4__scalar.c (bit-identical:
// same k order, no FMA, as every ppmm kernel: each C element starts from C
// or 0 and adds a[k] * b[k] in k order).
#include "../gemm.h"
#include "../gb_simd128.h"

__attribute__((noinline))
void gb_f32_ppmm_10x4__wasmsimd(size_t kc, const float *a, size_t a_next, const float *b, float *c,
                                size_t ldc, int accumulate) {
    const float *a5 = a + a_next;
    v128_t vacc0 = wasm_f32x4_splat(0.0f), vacc1 = vacc0, vacc2 = vacc0, vacc3 = vacc0, vacc4 = vacc0;
    v128_t vacc5 = vacc0, vacc6 = vacc0, vacc7 = vacc0, vacc8 = vacc0, vacc9 = vacc0;
    if (accumulate) {
        vacc0 = wasm_v128_load(c); vacc1 = wasm_v128_load(c + ldc);
        vacc2 = wasm_v128_load(c + 2 * ldc); vacc3 = wasm_v128_load(c + 3 * ldc);
        vacc4 = wasm_v128_load(c + 4 * ldc); vacc5 = wasm_v128_load(c + 5 * ldc);
        vacc6 = wasm_v128_load(c + 6 * ldc); vacc7 = wasm_v128_load(c + 7 * ldc);
        vacc8 = wasm_v128_load(c + 8 * ldc); vacc9 = wasm_v128_load(c + 9 * ldc);
    }

    for (size_t k = 0; k < kc; k++) {
        const v128_t vb = wasm_v128_load(b);
        b += GB_GEMM_NR;
        vacc0 = wasm_f32x4_add(vacc0, wasm_f32x4_mul(wasm_v128_load32_splat(a), vb));
        vacc1 = wasm_f32x4_add(vacc1, wasm_f32x4_mul(wasm_v128_load32_splat(a + 1), vb));
        vacc2 = wasm_f32x4_add(vacc2, wasm_f32x4_mul(wasm_v128_load32_splat(a + 2), vb));
        vacc3 = wasm_f32x4_add(vacc3, wasm_f32x4_mul(wasm_v128_load32_splat(a + 3), vb));
        vacc4 = wasm_f32x4_add(vacc4, wasm_f32x4_mul(wasm_v128_load32_splat(a + 4), vb));
        vacc5 = wasm_f32x4_add(vacc5, wasm_f32x4_mul(wasm_v128_load32_splat(a5), vb));
        vacc6 = wasm_f32x4_add(vacc6, wasm_f32x4_mul(wasm_v128_load32_splat(a5 + 1), vb));
        vacc7 = wasm_f32x4_add(vacc7, wasm_f32x4_mul(wasm_v128_load32_splat(a5 + 2), vb));
        vacc8 = wasm_f32x4_add(vacc8, wasm_f32x4_mul(wasm_v128_load32_splat(a5 + 3), vb));
        vacc9 = wasm_f32x4_add(vacc9, wasm_f32x4_mul(wasm_v128_load32_splat(a5 + 4), vb));
        a += GB_PPMM_MR;
        a5 += GB_PPMM_MR;
    }

    wasm_v128_store(c + 9 * ldc, vacc9); wasm_v128_store(c + 8 * ldc, vacc8);
    wasm_v128_store(c + 7 * ldc, vacc7); wasm_v128_store(c + 6 * ldc, vacc6);
    wasm_v128_store(c + 5 * ldc, vacc5); wasm_v128_store(c + 4 * ldc, vacc4);
    wasm_v128_store(c + 3 * ldc, vacc3); wasm_v128_store(c + 2 * ldc, vacc2);
    wasm_v128_store(c + ldc, vacc1); wasm_v128_store(c, vacc0);
}
