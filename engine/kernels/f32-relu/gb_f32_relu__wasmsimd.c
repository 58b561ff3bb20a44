// gb_f32_relu__wasmsimd: rectified linear unit, forward and backward, 4 lanes at a time.
//   forward   y = x < 0 ? 0 : x                  (NaN passes through, as in PyTorch)
//             gate: the same, and the gate [y > 0] (NaN open) kept as one bit per y
//   backward  dx += gate ? dy : 0                 the gate passes the gradient or blocks it
//             (store: dx = ..., for a flow that is new)
// NOTE: relu'(0) is taken as 0, as in PyTorch (threshold_backward).
// Forward is f32x4.pmax(x, 0): pmax(a, b) = a < b ? b : a, the scalar twin's
// expression lane by lane, so NaN and -0.0 pass unchanged, as in PyTorch
// (f32x4.max would turn -0.0 into +0.0; tests/kernels plants both).
// 16 floats per step, then a scalar tail. Memory-bound: the win is fewer
// instructions per byte so two threads saturate bandwidth, and a gate of
// bits instead of y read back.
// Twin: gb_f32_relu__scalar.c.
#include "../kernels.h"
#include "../gb_simd128.h"

#include <stdint.h>
#include <string.h>

// The scalar tail: x < 0 ? 0 : x on the bits, as in the scalar twin (clang 14
// compiles the plain expression for wasm to f32.max, which turns -0.0 into +0.0).
static inline void relu1(const float *x, float *y) {
    uint32_t bits;
    memcpy(&bits, x, sizeof bits);
    if (*x < 0.0f) bits = 0;
    memcpy(y, &bits, sizeof bits);   // stored as an integer: as a float, clang finds the max again
}

__attribute__((noinline))
void gb_f32_relu__wasmsimd(size_t n, const float *x, float *y) {
    const v128_t vzero = wasm_f32x4_splat(0.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const v128_t vx0123 = wasm_v128_load(x + i);
        const v128_t vx4567 = wasm_v128_load(x + i + 4);
        const v128_t vx89AB = wasm_v128_load(x + i + 8);
        const v128_t vxCDEF = wasm_v128_load(x + i + 12);
        wasm_v128_store(y + i, wasm_f32x4_pmax(vx0123, vzero));
        wasm_v128_store(y + i + 4, wasm_f32x4_pmax(vx4567, vzero));
        wasm_v128_store(y + i + 8, wasm_f32x4_pmax(vx89AB, vzero));
        wasm_v128_store(y + i + 12, wasm_f32x4_pmax(vxCDEF, vzero));
    }
    for (; i < n; i++) relu1(x + i, y + i);
}

// The forward with the gate kept as bits, gate[k] bit i = [y[16k + i] is not
// <= 0] (f32x4.le's lanes, shut where y <= 0: NaN passes as the float
// backward's le did): i32x4.bitmask packs four lanes' sign bits into four
// bits, and four of those make a 16-bit word per 16 floats. 1/32 of y's bytes.
__attribute__((noinline))
void gb_f32_relu_gate__wasmsimd(size_t n, const float *x, float *y, uint16_t *gate) {
    const v128_t vzero = wasm_f32x4_splat(0.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const v128_t vy0123 = wasm_f32x4_pmax(wasm_v128_load(x + i), vzero);
        const v128_t vy4567 = wasm_f32x4_pmax(wasm_v128_load(x + i + 4), vzero);
        const v128_t vy89AB = wasm_f32x4_pmax(wasm_v128_load(x + i + 8), vzero);
        const v128_t vyCDEF = wasm_f32x4_pmax(wasm_v128_load(x + i + 12), vzero);
        wasm_v128_store(y + i, vy0123);
        wasm_v128_store(y + i + 4, vy4567);
        wasm_v128_store(y + i + 8, vy89AB);
        wasm_v128_store(y + i + 12, vyCDEF);
        const uint32_t shut = wasm_i32x4_bitmask(wasm_f32x4_le(vy0123, vzero)) |
                              wasm_i32x4_bitmask(wasm_f32x4_le(vy4567, vzero)) << 4 |
                              wasm_i32x4_bitmask(wasm_f32x4_le(vy89AB, vzero)) << 8 |
                              wasm_i32x4_bitmask(wasm_f32x4_le(vyCDEF, vzero)) << 12;
        gate[i / 16] = (uint16_t)~shut;
    }
    if (i < n) {   // the last word: bits past n stay 0
        uint32_t open = 0;
        for (size_t k = i; k < n; k++) {
            relu1(x + k, y + k);
            open |= (uint32_t)!(y[k] <= 0.0f) << (k - i);
        }
        gate[i / 16] = (uint16_t)open;
    }
}

// Backward from the bits: lane i of a group of 4 is open when bit i of the
// word's nibble is set (i32x4.splat of the nibble, and with 1 2 4 8, eq);
// v128.and keeps dy there and writes +0.0f elsewhere, as le + andnot did.
__attribute__((noinline))
void gb_f32_relu_backward__wasmsimd(size_t n, const uint16_t *gate, const float *dy, float *dx, int store) {
    const v128_t vbit = wasm_i32x4_make(1, 2, 4, 8);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint32_t g = gate[i / 16];
        for (int q = 0; q < 4; q++) {
            const v128_t vopen = wasm_i32x4_eq(wasm_v128_and(wasm_i32x4_splat((int32_t)(g >> 4 * q)), vbit), vbit);
            const v128_t vg = wasm_v128_and(wasm_v128_load(dy + i + 4 * q), vopen);
            wasm_v128_store(dx + i + 4 * q, store ? vg : wasm_f32x4_add(wasm_v128_load(dx + i + 4 * q), vg));
        }
    }
    for (; i < n; i++) {
        const float g = gate[i / 16] >> (i % 16) & 1 ? dy[i] : 0.0f;
        dx[i] = store ? g : dx[i] + g;
    }
}
