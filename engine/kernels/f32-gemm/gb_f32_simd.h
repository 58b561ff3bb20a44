// gb_f32_simd.h: the old SIMD vocabulary, left for conv2d.c and
// conv2d_winograd.c until they move to ../gb_simd128.h (wasm SIMD128
// intrinsics, the idioms listed there); new code uses that header.
// GCC/Clang vector extensions: 4 x f32 compiles to v128 with -msimd128, to
// SSE natively, and to plain scalar code where neither exists.
// NOTE: `v4fu` is the unaligned, may-alias flavour used for every load and
// store from float arrays (x86 would fault on an unaligned aligned-load).
#ifndef GB_F32_SIMD_H
#define GB_F32_SIMD_H

typedef float gb_v4f __attribute__((vector_size(16)));
typedef float gb_v4fu __attribute__((vector_size(16), aligned(4), may_alias));
typedef int gb_v4i __attribute__((vector_size(16)));

static inline gb_v4f gb_v4f_load(const float *p) { return *(const gb_v4fu *)p; }
static inline void gb_v4f_store(float *p, gb_v4f v) { *(gb_v4fu *)p = v; }
static inline gb_v4f gb_v4f_splat(float x) { return (gb_v4f){x, x, x, x}; }
// Lanes of `v` where `mask` is all ones, else +0.0f (masks come from comparisons).
static inline gb_v4f gb_v4f_select0(gb_v4i mask, gb_v4f v) { return (gb_v4f)(mask & (gb_v4i)v); }

#endif
