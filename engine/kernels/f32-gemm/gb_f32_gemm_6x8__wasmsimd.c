// gb_f32_gemm_6x8__wasmsimd: C[6x8] (+)= A[6xK] . Bpanel[Kx8]
//
// The 4x8 kernel's bigger sibling: 12 accumulators, so each B row loaded is
// reused 6 times instead of 4 (loads: 8 per 24 arithmetic ops). Natively (SSE,
// 16 xmm registers: 12 acc + 2 B + 1 A) this fits and is usually faster; in
// V8 it does not (register pressure makes it spill, TOOLCHAIN.md), which is
// why the wasm builds default to 4x8. gb_kernels() picks per build; the bench
// prints both. Same conventions (aliasing rows, zero-padded panel) and the
// same per-element k order as gb_f32_gemm_4x8__scalar, hence bit-identical.
#include "../gemm.h"
#include "../gb_simd128.h"

__attribute__((noinline))
void gb_f32_gemm_6x8__wasmsimd(size_t mr, size_t nr, size_t kc, const float *a, size_t lda,
                               const float *b, float *c, size_t ldc, int accumulate) {
    const float *ap[6];
    float *cp[6];
    ap[0] = a; cp[0] = c;
    for (int i = 1; i < 6; i++) {            // rows past mr alias the last valid one
        int valid = (size_t)i < mr;
        ap[i] = valid ? ap[i - 1] + lda : ap[i - 1];
        cp[i] = valid ? cp[i - 1] + ldc : cp[i - 1];
    }
    const float *a0 = ap[0], *a1 = ap[1], *a2 = ap[2], *a3 = ap[3], *a4 = ap[4], *a5 = ap[5];

    float t[6][8] = {{0}};
    if (accumulate)
        for (int i = 5; i >= 0; i--)
            for (size_t j = 0; j < nr; j++) t[i][j] = cp[i][j];
    v128_t vacc0x0123 = wasm_v128_load(t[0]), vacc0x4567 = wasm_v128_load(t[0] + 4);
    v128_t vacc1x0123 = wasm_v128_load(t[1]), vacc1x4567 = wasm_v128_load(t[1] + 4);
    v128_t vacc2x0123 = wasm_v128_load(t[2]), vacc2x4567 = wasm_v128_load(t[2] + 4);
    v128_t vacc3x0123 = wasm_v128_load(t[3]), vacc3x4567 = wasm_v128_load(t[3] + 4);
    v128_t vacc4x0123 = wasm_v128_load(t[4]), vacc4x4567 = wasm_v128_load(t[4] + 4);
    v128_t vacc5x0123 = wasm_v128_load(t[5]), vacc5x4567 = wasm_v128_load(t[5] + 4);

    for (size_t k = 0; k < kc; k++) {
        const v128_t vb0123 = wasm_v128_load(b);
        const v128_t vb4567 = wasm_v128_load(b + 4);
        b += 8;
        v128_t va = wasm_v128_load32_splat(a0++);
        vacc0x0123 = wasm_f32x4_add(vacc0x0123, wasm_f32x4_mul(va, vb0123));
        vacc0x4567 = wasm_f32x4_add(vacc0x4567, wasm_f32x4_mul(va, vb4567));
        va = wasm_v128_load32_splat(a1++);
        vacc1x0123 = wasm_f32x4_add(vacc1x0123, wasm_f32x4_mul(va, vb0123));
        vacc1x4567 = wasm_f32x4_add(vacc1x4567, wasm_f32x4_mul(va, vb4567));
        va = wasm_v128_load32_splat(a2++);
        vacc2x0123 = wasm_f32x4_add(vacc2x0123, wasm_f32x4_mul(va, vb0123));
        vacc2x4567 = wasm_f32x4_add(vacc2x4567, wasm_f32x4_mul(va, vb4567));
        va = wasm_v128_load32_splat(a3++);
        vacc3x0123 = wasm_f32x4_add(vacc3x0123, wasm_f32x4_mul(va, vb0123));
        vacc3x4567 = wasm_f32x4_add(vacc3x4567, wasm_f32x4_mul(va, vb4567));
        va = wasm_v128_load32_splat(a4++);
        vacc4x0123 = wasm_f32x4_add(vacc4x0123, wasm_f32x4_mul(va, vb0123));
        vacc4x4567 = wasm_f32x4_add(vacc4x4567, wasm_f32x4_mul(va, vb4567));
        va = wasm_v128_load32_splat(a5++);
        vacc5x0123 = wasm_f32x4_add(vacc5x0123, wasm_f32x4_mul(va, vb0123));
        vacc5x4567 = wasm_f32x4_add(vacc5x4567, wasm_f32x4_mul(va, vb4567));
    }

    wasm_v128_store(t[0], vacc0x0123); wasm_v128_store(t[0] + 4, vacc0x4567);
    wasm_v128_store(t[1], vacc1x0123); wasm_v128_store(t[1] + 4, vacc1x4567);
    wasm_v128_store(t[2], vacc2x0123); wasm_v128_store(t[2] + 4, vacc2x4567);
    wasm_v128_store(t[3], vacc3x0123); wasm_v128_store(t[3] + 4, vacc3x4567);
    wasm_v128_store(t[4], vacc4x0123); wasm_v128_store(t[4] + 4, vacc4x4567);
    wasm_v128_store(t[5], vacc5x0123); wasm_v128_store(t[5] + 4, vacc5x4567);
    for (int i = 5; i >= 0; i--)             // last-to-first: the valid row wins
        for (size_t j = 0; j < nr; j++) cp[i][j] = t[i][j];
}
