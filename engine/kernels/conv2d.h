// conv2d.h: 2-D convolution (groups = 1, no bias), NCHW at the API.
//
//   forward   y[n,o,i,j] = sum_{c,kh,kw} w[o,c,kh,kw] * x[n,c, i*s+kh-p, j*s+kw-p]
//   backward  dw[o,c,kh,kw] += sum_{n,i,j} dy[n,o,i,j] * x[n,c, i*s+kh-p, j*s+kw-p]
//             dx[n,c,h,v]   += sum_{o,kh,kw} w[o,c,kh,kw] * dy[n,o,i,j]  over (i,j) that read (h,v)
// (x outside the image is the zero padding.)
//
// As GEMMs, with K = C*KH*KW, P = OH*OW and col[K x P] = im2col(x):
//   y      = w[OC x K] . col            per image (im2col writes GEMM-packed panels directly)
//   dw    += dy[OC x G*P] . col^T       G images side by side in one GEMM (G from the shape)
//   dcol   = w^T . dy,  dx += col2im(dcol)   per image
// w (or w^T) is packed for the GEMM once per call, for all the images.
// A 1x1, stride-1, unpadded conv skips im2col: col is x itself.
//
// Which algorithm runs (this im2col, fused or not, or Winograd's for 3x3
// stride 1: conv2d_winograd.h) is the plan's decision (conv2d_plan.h).
//
// Work buffers come from the caller: *_scratch_bytes(shape) tells how many
// (64-byte aligned, no malloc here). Results are bit-identical for any
// thread count (gemm.h), and col2im is split by input channel.
#ifndef GB_CONV2D_H
#define GB_CONV2D_H

#include <stddef.h>

typedef struct gb_conv2d_shape {
    int N, C, H, W;        // input x (N, C, H, W)
    int OC, KH, KW;        // weight w (OC, C, KH, KW)
    int stride, pad;       // same in both directions
    int OH, OW;            // output y (N, OC, OH, OW), filled by gb_conv2d_shape_make
} gb_conv2d_shape;

gb_conv2d_shape gb_conv2d_shape_make(int N, int C, int H, int W, int OC, int KH, int KW,
                                     int stride, int pad);
// Multiply-adds of the forward pass (backward: twice that).
double gb_conv2d_macs(const gb_conv2d_shape *s);

// An eval-mode BatchNorm (and a ReLU) applied as the forward stores y:
//   y[n,o,:] = conv[n,o,:] * scale[o] + shift[o],  then  y = y < 0 ? 0 : y
// with scale and shift as gb_f32_batchnorm_eval_coeffs makes them: the same
// float operations as the BatchNorm pass and the ReLU pass after the conv,
// so the same bits, without reading and writing y twice more.
typedef struct gb_conv2d_epilogue {
    const float *scale, *shift;   // OC each
    int relu;
} gb_conv2d_epilogue;
// The epilogue over n values of channel o (in place), and over whole planes
// of y (N x OC planes of P, threaded): for the paths that store y first.
void gb_conv2d_epilogue_run(const gb_conv2d_epilogue *e, int o, float *y, int n);
void gb_conv2d_epilogue_planes(const gb_conv2d_epilogue *e, int N, int OC, int P, float *y);

size_t gb_conv2d_forward_scratch_bytes(const gb_conv2d_shape *s);
// y = conv(x, w); y is overwritten.
void gb_conv2d_forward(const gb_conv2d_shape *s, const float *x, const float *w, float *y,
                       void *scratch);
// The same in two parts, for weights that serve many forwards (a frozen
// backbone): w packed once for the GEMM (gb_conv2d_packed_weights_floats
// floats), then forwards from the packed weights (a smaller scratch).
size_t gb_conv2d_packed_weights_floats(const gb_conv2d_shape *s);
void gb_conv2d_pack_weights(const gb_conv2d_shape *s, const float *w, float *wp);
size_t gb_conv2d_forward_packed_scratch_bytes(const gb_conv2d_shape *s);
void gb_conv2d_forward_packed(const gb_conv2d_shape *s, const float *wp, const float *x, float *y,
                              void *scratch);
// The same with an epilogue (NULL: none).
void gb_conv2d_forward_packed_epilogue(const gb_conv2d_shape *s, const float *wp, const float *x, float *y,
                                       void *scratch, const gb_conv2d_epilogue *e);

size_t gb_conv2d_backward_scratch_bytes(const gb_conv2d_shape *s);
// dx += dL/dx and dw += dL/dw (both accumulate, as .grad does); either may be
// NULL when that gradient is not needed (frozen weights, input leaf).
void gb_conv2d_backward(const gb_conv2d_shape *s, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, void *scratch);

// The pieces, exposed for tests and benches.
// Writes im2col(x) of one image (C,H,W) as packed B panels (gemm.h) of K x P.
void gb_f32_im2col_packed(const gb_conv2d_shape *s, const float *x, float *packed);
// Writes im2col(x) of one image row-major, col[K x P].
void gb_f32_im2col(const gb_conv2d_shape *s, const float *x, float *col);
// dx (C,H,W) += col2im(dcol[K x P]) for one image.
void gb_f32_col2im(const gb_conv2d_shape *s, const float *dcol, float *dx);

// Winograd's kernels for 3x3 stride-1 convolutions.
#include "conv2d_winograd.h"

#endif
