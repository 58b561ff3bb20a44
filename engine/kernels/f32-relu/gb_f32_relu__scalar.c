// gb_f32_relu__scalar: the reference twin of gb_f32_relu__wasmsimd.c.
//   forward   y = x < 0 ? 0 : x        backward  dx += x <= 0 ? 0 : dy (store: dx = ...)
// NOTE: a blocked lane adds +0.0f to dx (as the SIMD and-not does), so
// dx = -0.0f stays -0.0f + 0.0f = +0.0f in both twins.
#include "../kernels.h"

__attribute__((noinline))
void gb_f32_relu__scalar(size_t n, const float *x, float *y) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

__attribute__((noinline))
void gb_f32_relu_backward__scalar(size_t n, const float *x, const float *dy, float *dx, int store) {
    if (store) {
        for (size_t i = 0; i < n; i++) dx[i] = x[i] <= 0.0f ? 0.0f : dy[i];
        return;
    }
    for (size_t i = 0; i < n; i++) dx[i] += x[i] <= 0.0f ? 0.0f : dy[i];
}
