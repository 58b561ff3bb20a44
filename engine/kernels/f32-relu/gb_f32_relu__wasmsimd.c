// gb_f32_relu__wasmsimd: rectified linear unit, forward and backward, 4 lanes at a time.
//   forward   y = x < 0 ? 0 : x                  (NaN passes through, as in PyTorch)
//   backward  dx += x <= 0 ? 0 : dy               the gate passes the gradient or blocks it
//             (store: dx = ..., for a flow that is new)
// NOTE: relu'(0) is taken as 0, as in PyTorch (threshold_backward).
// A comparison gives an all-ones lane mask; and-not with it zeroes the
// blocked lanes without a branch. 16 floats per step (4 independent
// vectors), then a scalar tail. Memory-bound: the win is fewer instructions
// per byte so two threads saturate bandwidth. Twin: gb_f32_relu__scalar.c.
#include "../kernels.h"
#include "../f32-gemm/gb_f32_simd.h"

__attribute__((noinline))
void gb_f32_relu__wasmsimd(size_t n, const float *x, float *y) {
    const gb_v4f zero = gb_v4f_splat(0.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        gb_v4f v0 = gb_v4f_load(x + i), v1 = gb_v4f_load(x + i + 4);
        gb_v4f v2 = gb_v4f_load(x + i + 8), v3 = gb_v4f_load(x + i + 12);
        gb_v4f_store(y + i, (gb_v4f)(~(v0 < zero) & (gb_v4i)v0));
        gb_v4f_store(y + i + 4, (gb_v4f)(~(v1 < zero) & (gb_v4i)v1));
        gb_v4f_store(y + i + 8, (gb_v4f)(~(v2 < zero) & (gb_v4i)v2));
        gb_v4f_store(y + i + 12, (gb_v4f)(~(v3 < zero) & (gb_v4i)v3));
    }
    for (; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

__attribute__((noinline))
void gb_f32_relu_backward__wasmsimd(size_t n, const float *x, const float *dy, float *dx, int store) {
    const gb_v4f zero = gb_v4f_splat(0.0f);
    size_t i = 0;
    if (store) {   // a new flow: dx = the gated dy (the same bits as -0 + it)
        for (; i + 8 <= n; i += 8) {
            gb_v4f x0 = gb_v4f_load(x + i), x1 = gb_v4f_load(x + i + 4);
            gb_v4f g0 = gb_v4f_load(dy + i), g1 = gb_v4f_load(dy + i + 4);
            gb_v4f_store(dx + i, (gb_v4f)(~(x0 <= zero) & (gb_v4i)g0));
            gb_v4f_store(dx + i + 4, (gb_v4f)(~(x1 <= zero) & (gb_v4i)g1));
        }
        for (; i < n; i++) dx[i] = x[i] <= 0.0f ? 0.0f : dy[i];
        return;
    }
    for (; i + 8 <= n; i += 8) {
        gb_v4f x0 = gb_v4f_load(x + i), x1 = gb_v4f_load(x + i + 4);
        gb_v4f g0 = gb_v4f_load(dy + i), g1 = gb_v4f_load(dy + i + 4);
        gb_v4f_store(dx + i, gb_v4f_load(dx + i) + (gb_v4f)(~(x0 <= zero) & (gb_v4i)g0));
        gb_v4f_store(dx + i + 4, gb_v4f_load(dx + i + 4) + (gb_v4f)(~(x1 <= zero) & (gb_v4i)g1));
    }
    for (; i < n; i++) dx[i] += x[i] <= 0.0f ? 0.0f : dy[i];
}
