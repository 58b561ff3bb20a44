// resize.h: shrinking or enlarging a photo the way Pillow does, bit for bit.
//
// torchvision's Resize(256) on a PIL image calls Pillow's
// img.resize((w, h), Image.BILINEAR) (Pillow 9.4's ImagingResample), so a
// model trained on torchvision's pipeline saw exactly these bytes. We make
// the same bytes, not merely similar ones (tests/resnet/frozen.test.mjs
// compares every byte with Pillow's on 14 images).
//
// The filter. Each output pixel is a weighted average of the input pixels
// under a "tent" centred on it:
//
//   scale   = in_size / out_size               (> 1 when shrinking)
//   center  = (i + 0.5) · scale                 output pixel i, in input coordinates
//   support = max(scale, 1)                     half-width of the tent, in input pixels
//   taps    = input pixels j from (int)(center − support + 0.5) up to
//             (int)(center + support + 0.5), exclusive, clipped to the image
//   w(j)    = max(0, 1 − |j + 0.5 − center| / support), then w /= Σ w
//
// When shrinking, the tent is `scale` input pixels wide on each side, so
// every input pixel counts (antialiasing: no pixel is skipped, fine stripes
// average to grey instead of aliasing into moiré). When enlarging it is
// plain linear interpolation between the two nearest pixels.
//
// Separable: the horizontal pass first (each row → out_w pixels, kept as
// uint8 as Pillow keeps it, only for the rows the vertical taps read), then
// the vertical pass (each column → out_h pixels). A dimension whose size
// does not change is not filtered; same size in both is a copy.
//
// Fixed point (why the result is exact, not just close): the weights are
// computed in double, then rounded to integers with 22 fractional bits,
// half away from zero:  W = (int)(w · 2²² ± 0.5). A pass sums
//   acc = 2²¹ + Σ pixel · W          (32-bit int; 2²¹ is one half: rounding)
// and stores clip(acc >> 22, 0, 255). Same doubles, same integers, same bytes.
//
// Scalar only: it runs once per picture (a 4032×3024 photo to 341×256:
// ~47 ms in Node's wasm), so it has no SIMD twin.
#ifndef GB_KERNELS_RESIZE_H
#define GB_KERNELS_RESIZE_H

#include <stddef.h>
#include <stdint.h>

#define GB_RESIZE_PRECISION_BITS 22   // Pillow's PRECISION_BITS = 32 - 8 - 2

// Work memory for gb_u8_resize_bilinear__scalar (weights, the intermediate image).
size_t gb_u8_resize_bilinear_work_bytes(int in_w, int in_h, int out_w, int out_h);

// out (out_h, out_w, 3) = Pillow's resize of the first three channels of
// `in` (in_h, in_w, channels), channels 3 (RGB) or 4 (RGBA: alpha ignored,
// as Image.convert('RGB') ignores it). `work` holds at least
// gb_u8_resize_bilinear_work_bytes(...) bytes, 8-byte aligned.
void gb_u8_resize_bilinear__scalar(const uint8_t *in, int in_w, int in_h, int channels, uint8_t *out,
                                   int out_w, int out_h, void *work);

#endif
