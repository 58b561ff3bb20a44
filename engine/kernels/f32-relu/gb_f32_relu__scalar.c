// gb_f32_relu__scalar: the reference twin of gb_f32_relu__wasmsimd.c.
//   forward   y = x < 0 ? 0 : x        gate: also gate[k] bit i = !(y[16k + i] <= 0)
//   backward  dx += gate ? dy : 0 (store: dx = ...)
// NOTE: a blocked lane adds +0.0f to dx (as the SIMD and-not does), so
// dx = -0.0f stays -0.0f + 0.0f = +0.0f in both twins.
#include "../kernels.h"

#include <stdint.h>
#include <string.h>

// x < 0 ? 0 : x, as f32x4.pmax(x, 0) computes it: -0.0 and NaN pass unchanged
// (tests/kernels/test_kernels.c plants both). NOTE: written on the bits:
// clang 14 compiles the plain expression for wasm to f32.max / f32x4.max,
// which return +0.0 for -0.0 and may change a NaN's sign.
static inline void relu1(const float *x, float *y) {
    uint32_t bits;
    memcpy(&bits, x, sizeof bits);
    if (*x < 0.0f) bits = 0;
    memcpy(y, &bits, sizeof bits);   // stored as an integer: as a float, clang finds the max again
}

__attribute__((noinline))
void gb_f32_relu__scalar(size_t n, const float *x, float *y) {
    for (size_t i = 0; i < n; i++) relu1(x + i, y + i);
}

// gate[k] bit i = [y[16k + i] is not <= 0], bits past n 0.
__attribute__((noinline))
void gb_f32_relu_gate__scalar(size_t n, const float *x, float *y, uint16_t *gate) {
    for (size_t k = 0; k < n; k += 16) {
        uint32_t open = 0;
        for (size_t i = k; i < n && i < k + 16; i++) {
            relu1(x + i, y + i);
            open |= (uint32_t)!(y[i] <= 0.0f) << (i - k);
        }
        gate[k / 16] = (uint16_t)open;
    }
}

__attribute__((noinline))
void gb_f32_relu_backward__scalar(size_t n, const uint16_t *gate, const float *dy, float *dx, int store) {
    for (size_t i = 0; i < n; i++) {
        const float g = gate[i / 16] >> (i % 16) & 1 ? dy[i] : 0.0f;
        dx[i] = store ? g : dx[i] + g;
    }
}
