// gb_f32_relu__scalar: the reference twin of gb_f32_relu__wasmsimd.c.
//   forward   y = x < 0 ? 0 : x        backward  dx += x <= 0 ? 0 : dy (store: dx = ...)
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

__attribute__((noinline))
void gb_f32_relu_backward__scalar(size_t n, const float *x, const float *dy, float *dx, int store) {
    if (store) {
        for (size_t i = 0; i < n; i++) dx[i] = x[i] <= 0.0f ? 0.0f : dy[i];
        return;
    }
    for (size_t i = 0; i < n; i++) dx[i] += x[i] <= 0.0f ? 0.0f : dy[i];
}
