// kernels.h: which twin of each kernel this build runs, and the kernels'
// public headers.
//
// Every SIMD kernel (`__wasmsimd`) has a scalar twin (`__scalar`) that gives
// the same bits (tests/kernels compares them on edge sizes), so the three
// wasm builds agree. The choice is made when the engine is compiled, not
// through a table of function pointers: GB_KERNELS_SIMD says whether the
// build has vectors (wasm SIMD128, or SSE/NEON natively through SIMDe:
// gb_simd128.h), and each caller names the twin it runs:
//   relu              gb_relu_*_kernel below (ops/relu.c, ops/add.c's add + relu)
//   GEMM microkernel  gemm.c's default configuration (gb_gemm_get_config);
//                     tests and benches switch it with gb_gemm_set_config
// Every other kernel (conv, pool, batchnorm, resize) is one source whose
// vector loops compile to SIMD128 with -msimd128 and to scalar code without.
//
// Microkernels that only tests and benches call (the strided
// gb_f32_gemm_4x8 twins and 6x8) are not in the shipped builds:
// kernels.cmake's GB_KERNELS_TEST_SOURCES.
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

// relu: y = x < 0 ? 0 : x (f32-relu/). _gate also keeps the gate as bits:
// gate[k] bit i = !(y[16k + i] <= 0) (n/16 words rounded up; a caller that
// splits the work starts each part on a multiple of 16). backward: dx +=
// gate ? dy : +0.0f, or with store dx = (a new flow), not +=.
void gb_f32_relu__wasmsimd(size_t n, const float *x, float *y);
void gb_f32_relu_gate__wasmsimd(size_t n, const float *x, float *y, uint16_t *gate);
void gb_f32_relu_backward__wasmsimd(size_t n, const uint16_t *gate, const float *dy, float *dx, int store);
void gb_f32_relu__scalar(size_t n, const float *x, float *y);
void gb_f32_relu_gate__scalar(size_t n, const float *x, float *y, uint16_t *gate);
void gb_f32_relu_backward__scalar(size_t n, const uint16_t *gate, const float *dy, float *dx, int store);
#ifdef GB_KERNELS_SIMD
#define gb_relu_forward_kernel gb_f32_relu__wasmsimd
#define gb_relu_gate_kernel gb_f32_relu_gate__wasmsimd
#define gb_relu_backward_kernel gb_f32_relu_backward__wasmsimd
#else
#define gb_relu_forward_kernel gb_f32_relu__scalar
#define gb_relu_gate_kernel gb_f32_relu_gate__scalar
#define gb_relu_backward_kernel gb_f32_relu_backward__scalar
#endif

#endif
