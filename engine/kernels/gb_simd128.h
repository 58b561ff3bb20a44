// gb_simd128.h: the kernels' SIMD vocabulary, WebAssembly SIMD128 intrinsics.
//
// Every vector line of a `__wasmsimd` kernel names the v128 instruction it
// runs (wasm_v128_load32_splat is `v128.load32_splat`, wasm_f32x4_add is
// `f32x4.add`...), as XNNPACK's wasmsimd kernels do.
//   wasm with -msimd128   clang's <wasm_simd128.h>: the instructions themselves
//   anything else         SIMDe's simde/wasm/simd128.h (Debian's libsimde-dev)
//                         with its native aliases: the same source compiles
//                         with gcc to SSE2 (or to plain C), so ctest runs the
//                         kernels under ASan/UBSan, and the scalar wasm build
//                         gets plain scalar code
// SIMDe implements each instruction's exact wasm semantics (pmax's NaN and
// -0.0 rules included), so every build gives the same bits; tests/kernels
// checks each kernel against its scalar twin in every build.
//
// Idioms used in the kernels (v128_t has no arithmetic operators here: in
// clang it is an i32x4 vector type, so `a + b` would add integers):
//   load / store 4 floats   wasm_v128_load(p) / wasm_v128_store(p, v): unaligned
//   broadcast a float       wasm_v128_load32_splat(p) from memory, wasm_f32x4_splat(x)
//   a + b + c, 2.0f * v     wasm_f32x4_add(wasm_f32x4_add(a, b), c): nested as C
//                           groups the scalar twin's expression, so each lane rounds
//                           the same; a constant factor is a hoisted wasm_f32x4_splat
//   {a, b, c, d}, v[i]      wasm_f32x4_make(a, b, c, d), wasm_f32x4_extract_lane(v, i)
//   a ? b : c per lane      wasm_v128_bitselect(b, c, mask); masks from wasm_f32x4_lt...
//   mask ? 0 : v            wasm_v128_andnot(v, mask)  (v & ~mask: +0.0f in blocked lanes)
//   max(v, 0) as x<0?0:x    wasm_f32x4_pmax(v, zero)   (pmax(a, b) = a < b ? b : a:
//                           NaN and -0.0 pass, as the scalar twin; not wasm_f32x4_max)
//   lane permutations       wasm_i32x4_shuffle(a, b, i0..i3), lanes 4-7 are b's
//   f32 -> f64              wasm_f64x2_promote_low_f32x4 (lanes 0, 1)
#ifndef GB_SIMD128_H
#define GB_SIMD128_H

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#else
#if defined(__wasm__)
// The scalar wasm build: SIMDe asks clang to vectorise its lane loops, which
// a target without SIMD cannot do; the warning says nothing about our code.
#pragma clang diagnostic ignored "-Wpass-failed"
#endif
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/wasm/simd128.h>
#endif

#endif
