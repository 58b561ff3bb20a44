// gb_f32_ppmm_5x8__wasmsimd: C[5x8] (+)= Apacked[5xK] . Bpanel[Kx8]
//
// "ppmm": both operands pre-packed (XNNPACK's name). A comes as one tile of
// gb_f32_pack_a: for each k, the 5 values A[0..4][k] side by side, so one
// pointer walks A and its five broadcasts are loads at constant offsets
// (`v128.load32_splat` with an immediate). With A read through five strided
// row pointers (gb_f32_gemm_4x8__wasmsimd) V8 spends integer registers and
// instructions on them; packed, the loop has room for a fifth row.
//
// Per k: two loads of the packed B row, five broadcasts, ten multiplies and
// ten adds into 10 v128 accumulators (+2 B, +1 A = 13 of V8's 15 usable
// vector registers on x64: no spills; 6x8 needs 15 and spills). Measured in
// Node 20 (1 thread, L1-resident): ~39 GF/s, 93% of the mul+add peak, against
// ~35 for the same loop at 4x8 and ~31 for the strided 4x8.
//
// Full tiles only: edge tiles (fewer rows or columns) go through a 5x8
// scratch tile in the driver, so the kernel has no edge branches. NOTE: 13
// registers leave V8 little slack: small changes to this function (edge
// branches inside, the order of the final stores) made its register
// allocator spill accumulators in the loop, at half the speed. Check the
// bench's "ppmm 5x8" line after any edit. Keep it a separate, non-inlined
// function called many times: V8 optimises a function only on a later call.
// Twin: gb_f32_ppmm_5x8__scalar.c (bit-identical: same k order, no FMA).
#include "../gemm.h"
#include "../gb_simd128.h"

__attribute__((noinline))
void gb_f32_ppmm_5x8__wasmsimd(size_t kc, const float *a, const float *b, float *c, size_t ldc,
                               int accumulate) {
    float *c0 = c, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc, *c4 = c3 + ldc;
    v128_t vacc0x0123 = wasm_f32x4_splat(0.0f), vacc0x4567 = vacc0x0123;
    v128_t vacc1x0123 = vacc0x0123, vacc1x4567 = vacc0x0123;
    v128_t vacc2x0123 = vacc0x0123, vacc2x4567 = vacc0x0123;
    v128_t vacc3x0123 = vacc0x0123, vacc3x4567 = vacc0x0123;
    v128_t vacc4x0123 = vacc0x0123, vacc4x4567 = vacc0x0123;
    if (accumulate) {
        vacc0x0123 = wasm_v128_load(c0); vacc0x4567 = wasm_v128_load(c0 + 4);
        vacc1x0123 = wasm_v128_load(c1); vacc1x4567 = wasm_v128_load(c1 + 4);
        vacc2x0123 = wasm_v128_load(c2); vacc2x4567 = wasm_v128_load(c2 + 4);
        vacc3x0123 = wasm_v128_load(c3); vacc3x4567 = wasm_v128_load(c3 + 4);
        vacc4x0123 = wasm_v128_load(c4); vacc4x4567 = wasm_v128_load(c4 + 4);
    }

    for (size_t k = 0; k < kc; k++) {
        const v128_t vb0123 = wasm_v128_load(b);
        const v128_t vb4567 = wasm_v128_load(b + 4);
        b += 8;
        v128_t va = wasm_v128_load32_splat(a);
        vacc0x0123 = wasm_f32x4_add(vacc0x0123, wasm_f32x4_mul(va, vb0123));
        vacc0x4567 = wasm_f32x4_add(vacc0x4567, wasm_f32x4_mul(va, vb4567));
        va = wasm_v128_load32_splat(a + 1);
        vacc1x0123 = wasm_f32x4_add(vacc1x0123, wasm_f32x4_mul(va, vb0123));
        vacc1x4567 = wasm_f32x4_add(vacc1x4567, wasm_f32x4_mul(va, vb4567));
        va = wasm_v128_load32_splat(a + 2);
        vacc2x0123 = wasm_f32x4_add(vacc2x0123, wasm_f32x4_mul(va, vb0123));
        vacc2x4567 = wasm_f32x4_add(vacc2x4567, wasm_f32x4_mul(va, vb4567));
        va = wasm_v128_load32_splat(a + 3);
        vacc3x0123 = wasm_f32x4_add(vacc3x0123, wasm_f32x4_mul(va, vb0123));
        vacc3x4567 = wasm_f32x4_add(vacc3x4567, wasm_f32x4_mul(va, vb4567));
        va = wasm_v128_load32_splat(a + 4);
        vacc4x0123 = wasm_f32x4_add(vacc4x0123, wasm_f32x4_mul(va, vb0123));
        vacc4x4567 = wasm_f32x4_add(vacc4x4567, wasm_f32x4_mul(va, vb4567));
        a += 5;
    }

    // NOTE: last row first. Stored in row order, V8 (Node 20) allocated
    // registers differently and spilled two accumulators inside the loop
    // (~19 instead of ~39 GF/s); tests/kernels cannot see that, the bench can.
    wasm_v128_store(c4, vacc4x0123); wasm_v128_store(c4 + 4, vacc4x4567);
    wasm_v128_store(c3, vacc3x0123); wasm_v128_store(c3 + 4, vacc3x4567);
    wasm_v128_store(c2, vacc2x0123); wasm_v128_store(c2 + 4, vacc2x4567);
    wasm_v128_store(c1, vacc1x0123); wasm_v128_store(c1 + 4, vacc1x4567);
    wasm_v128_store(c0, vacc0x0123); wasm_v128_store(c0 + 4, vacc0x4567);
}
