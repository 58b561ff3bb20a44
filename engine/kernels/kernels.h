// kernels.h: the kernel table of this build, and the kernels' public headers.
//
// Ops call kernels through gb_kernels() so one engine source serves the three
// wasm builds: SIMD kernels where the build has vectors (wasm simd128, or
// SSE/NEON natively, through SIMDe: gb_simd128.h), their scalar twins
// otherwise. Every SIMD kernel has a scalar twin that gives the same bits
// (tests/kernels), so the builds agree. gb_kernels_scalar() is the all-scalar
// table, for tests and for checking a build against the reference.
#ifndef GB_KERNELS_H
#define GB_KERNELS_H

#include <stddef.h>
#include <stdint.h>

// The builds whose kernels are the SIMD twins (wasm SIMD128 intrinsics, run
// natively on SSE or NEON by SIMDe); the others get the scalar twins.
#if defined(__wasm_simd128__) || defined(__SSE2__) || defined(__ARM_NEON)
#define GB_KERNELS_SIMD 1
#endif

#include "batchnorm.h"
#include "conv2d.h"
#include "gemm.h"
#include "pool2d.h"

// relu: y = x < 0 ? 0 : x;  backward dx += x <= 0 ? 0 : dy   (f32-relu/)
void gb_f32_relu__wasmsimd(size_t n, const float *x, float *y);
void gb_f32_relu_backward__wasmsimd(size_t n, const float *x, const float *dy, float *dx, int store);
void gb_f32_relu__scalar(size_t n, const float *x, float *y);
void gb_f32_relu_backward__scalar(size_t n, const float *x, const float *dy, float *dx, int store);

typedef struct gb_kernel_table {
    const char *isa;                       // "wasmsimd" or "scalar"
    // microkernels that differ per build
    // the GEMM microkernel, C[mr x 8] (+)= A . Bpanel (gemm.h): one of
    gb_f32_gemm_ukernel gemm;              //   A read in place (lda), or
    gb_f32_ppmm_ukernel gemm_ppmm;         //   A packed by the driver (the other is NULL)
    int gemm_mr;
    const char *gemm_name;
    void (*relu)(size_t n, const float *x, float *y);
    void (*relu_backward)(size_t n, const float *x, const float *dy, float *dx, int store);   // store: dx =, not +=
    // whole ops (threaded through the pool; they reach the GEMM microkernel
    // through gemm.c's configuration, which defaults to this build's)
    void (*conv2d_forward)(const gb_conv2d_shape *s, const float *x, const float *w, float *y,
                           void *scratch);
    void (*conv2d_backward)(const gb_conv2d_shape *s, const float *x, const float *w,
                            const float *dy, float *dx, float *dw, void *scratch);
    // 3x3 stride-1 convs: Winograd F(2x2,3x3) or F(4x4,3x3) (tile 2 or 4) with
    // pre-transformed weights (conv2d.h)
    void (*conv2d_winograd_transform_weights)(const gb_conv2d_shape *s, int tile, const float *w, float *u);
    void (*conv2d_winograd_forward)(const gb_conv2d_shape *s, int tile, const float *u, const float *x,
                                    float *y, void *scratch);
    void (*conv2d_winograd_transform_weights_dx)(const gb_conv2d_shape *s, int tile, const float *w, float *u);
    void (*conv2d_winograd_backward_dx)(const gb_conv2d_shape *s, int tile, const float *u_dx,
                                        const float *dy, float *dx, int store, void *scratch);
    void (*maxpool2d_forward)(const gb_pool2d_shape *s, const float *x, float *y, int32_t *argmax);
    void (*maxpool2d_backward)(const gb_pool2d_shape *s, const int32_t *argmax, const float *dy,
                               float *dx);
    void (*global_avgpool_forward)(int N, int C, int HW, const float *x, float *y);
    void (*global_avgpool_backward)(int N, int C, int HW, const float *dy, float *dx);
    void (*batchnorm_forward_train)(int N, int C, int HW, const float *x, const float *gamma,
                                    const float *beta, float eps, float momentum,
                                    float *running_mean, float *running_var, float *y,
                                    float *save_mean, float *save_invstd);
    void (*batchnorm_forward_eval)(int N, int C, int HW, const float *x, const float *gamma,
                                   const float *beta, const float *running_mean,
                                   const float *running_var, float eps, float *y);
    void (*batchnorm_backward)(int N, int C, int HW, const float *x, const float *dy,
                               const float *gamma, const float *save_mean,
                               const float *save_invstd, int train, float *dx, int store_dx,
                               float *dgamma, float *dbeta);
} gb_kernel_table;

const gb_kernel_table *gb_kernels(void);
const gb_kernel_table *gb_kernels_scalar(void);

#endif
