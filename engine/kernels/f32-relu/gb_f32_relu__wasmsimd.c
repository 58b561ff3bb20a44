// gb_f32_relu__wasmsimd: rectified linear unit, forward and backward, 4 lanes at a time.
//   forward   y = x < 0 ? 0 : x                  (NaN passes through, as in PyTorch)
//   backward  dx += x <= 0 ? 0 : dy               the gate passes the gradient or blocks it
//             (store: dx = ..., for a flow that is new)
// NOTE: relu'(0) is taken as 0, as in PyTorch (threshold_backward).
// Forward is f32x4.pmax(x, 0): pmax(a, b) = a < b ? b : a, the scalar twin's
// expression lane by lane, so NaN and -0.0 pass unchanged, as in PyTorch
// (f32x4.max would turn -0.0 into +0.0; tests/kernels plants both).
// Backward: f32x4.le gives an all-ones lane mask where the gate is shut, and
// v128.andnot clears those lanes of dy to +0.0f without a branch. 16 floats per forward step, 8 per
// backward step, then a scalar tail. Memory-bound: the win is fewer
// instructions per byte so two threads saturate bandwidth.
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

__attribute__((noinline))
void gb_f32_relu_backward__wasmsimd(size_t n, const float *x, const float *dy, float *dx, int store) {
    const v128_t vzero = wasm_f32x4_splat(0.0f);
    size_t i = 0;
    if (store) {   // a new flow: dx = the gated dy (the same bits as -0 + it)
        for (; i + 8 <= n; i += 8) {
            const v128_t vshut0123 = wasm_f32x4_le(wasm_v128_load(x + i), vzero);
            const v128_t vshut4567 = wasm_f32x4_le(wasm_v128_load(x + i + 4), vzero);
            wasm_v128_store(dx + i, wasm_v128_andnot(wasm_v128_load(dy + i), vshut0123));
            wasm_v128_store(dx + i + 4, wasm_v128_andnot(wasm_v128_load(dy + i + 4), vshut4567));
        }
        for (; i < n; i++) dx[i] = x[i] <= 0.0f ? 0.0f : dy[i];
        return;
    }
    for (; i + 8 <= n; i += 8) {
        const v128_t vshut0123 = wasm_f32x4_le(wasm_v128_load(x + i), vzero);
        const v128_t vshut4567 = wasm_f32x4_le(wasm_v128_load(x + i + 4), vzero);
        const v128_t vg0123 = wasm_v128_andnot(wasm_v128_load(dy + i), vshut0123);
        const v128_t vg4567 = wasm_v128_andnot(wasm_v128_load(dy + i + 4), vshut4567);
        wasm_v128_store(dx + i, wasm_f32x4_add(wasm_v128_load(dx + i), vg0123));
        wasm_v128_store(dx + i + 4, wasm_f32x4_add(wasm_v128_load(dx + i + 4), vg4567));
    }
    for (; i < n; i++) dx[i] += x[i] <= 0.0f ? 0.0f : dy[i];
}
