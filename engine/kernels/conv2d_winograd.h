// conv2d_winograd.h: 3x3 stride-1 convolution by Winograd F(2x2, 3x3) or F(4x4, 3x3).
//
// A 2x2 block of outputs needs a 4x4 patch d of each input channel. With
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   A^T = [1 1 1 0; 0 1 -1 -1]
// the block is  Y = A^T [ sum_c (G g_c G^T) .* (B^T d_c B) ] A,
// an elementwise product in the 4x4 "Winograd domain" summed over channels:
// 16 multiplies per channel for 4 outputs instead of 36 (2.25x fewer).
// Summed over channels, position xi of the 4x4 domain is one GEMM:
//   M[xi] (OC x T) = U[xi] (OC x C) . V[xi] (C x T),   T = number of 2x2 tiles,
// so the 16 GEMMs run through the same packed-B driver (gemm.c) and V is
// written straight into packed panels. U depends on the weights only:
// callers that keep weights fixed (a frozen backbone) transform them once.
// NOTE: results differ from im2col's by rounding (the transforms add and
// halve); the error stays at float precision for F(2x2, 3x3) (tests check
// 1e-5-level agreement with direct convolution in double).
//
// The caller picks the tile (conv2d_plan.c says which pays, and where
// F(4x4) is not precise enough). 4 means F(4x4, 3x3): a 4x4 block of outputs
// from a 6x6 patch, with
//   B^T = [4  0 -5  0  1  0;       G = [ 1/4     0     0;
//          0 -4 -4  1  1  0;             -1/6  -1/6  -1/6;
//          0  4 -4 -1  1  0;             -1/6   1/6  -1/6;
//          0 -2 -1  2  1  0;             1/24  1/12   1/6;
//          0  2 -1 -2  1  0;             1/24 -1/12   1/6;
//          0  4  0 -5  0  1]                0     0     1]
//   A^T = [1 1  1 1  1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// (Lavin & Gray 2015): 36 multiplies per channel for 16 outputs, 4x fewer
// than direct and 1.78x fewer than F(2x2), in 36 GEMMs; V and M shrink from
// 4 to 2.25 floats per output.
//
// The stages live in conv2d_winograd_{weights,input,output,forward,dw}.c
// (conv2d_winograd_internal.h maps them). Scratch per the functions below,
// from the caller (64-byte aligned); results are bit-identical for any
// thread count.
#ifndef GB_CONV2D_WINOGRAD_H
#define GB_CONV2D_WINOGRAD_H

#include "conv2d.h"

// 3x3, stride 1: the convolutions these kernels compute.
int gb_conv2d_winograd_ok(const gb_conv2d_shape *s);
// The weights are transformed into u (16 or 36 planes packed for the GEMM:
// gb_conv2d_winograd_weights_floats floats, room for either layout).
size_t gb_conv2d_winograd_weights_floats(const gb_conv2d_shape *s, int tile);
void gb_conv2d_winograd_transform_weights(const gb_conv2d_shape *s, int tile, const float *w, float *u);
size_t gb_conv2d_winograd_scratch_bytes(const gb_conv2d_shape *s, int tile);
// y = conv(x, w) from u; y is overwritten.
void gb_conv2d_winograd_forward(const gb_conv2d_shape *s, int tile, const float *u, const float *x, float *y,
                                void *scratch);
// The same, each output run through e as it is stored (conv2d.h).
void gb_conv2d_winograd_forward_epilogue(const gb_conv2d_shape *s, int tile, const float *u, const float *x, float *y,
                                         void *scratch, const gb_conv2d_epilogue *e);
// The same with U made per call, `rows` output channels at a time, in the
// front of the scratch (rows a multiple of 5, the GEMM's tile): for a U too
// large to make whole (conv2d_plan.c). The same bits; e as above, or NULL.
size_t gb_conv2d_winograd_rows_scratch_bytes(const gb_conv2d_shape *s, int tile, int rows);
void gb_conv2d_winograd_forward_rows(const gb_conv2d_shape *s, int tile, int rows, const float *w, const float *x,
                                     float *y, void *scratch, const gb_conv2d_epilogue *e);
// dx += dL/dx for such a conv (pad <= 2), from its own transformed weights
// (as many floats: w turned by 180 degrees and transposed); with store,
// dx = dL/dx (the same bits as adding onto -0.0).
void gb_conv2d_winograd_transform_weights_dx(const gb_conv2d_shape *s, int tile, const float *w, float *u);
size_t gb_conv2d_winograd_backward_dx_scratch_bytes(const gb_conv2d_shape *s, int tile);
void gb_conv2d_winograd_backward_dx(const gb_conv2d_shape *s, int tile, const float *u_dx, const float *dy,
                                    float *dx, int store, void *scratch);
// The same from w, its turned U made `rows` input channels (dx's outputs) at a time.
size_t gb_conv2d_winograd_backward_dx_rows_scratch_bytes(const gb_conv2d_shape *s, int tile, int rows);
void gb_conv2d_winograd_backward_dx_rows(const gb_conv2d_shape *s, int tile, int rows, const float *w,
                                         const float *dy, float *dx, int store, void *scratch);
// dw += dL/dw (with store: dw =) for such a conv (any pad), from x and dy: the
// tiles' sum is again 16 or 36 GEMMs (2.25x or 4x fewer multiplies than im2col's).
// rows: dU^T is made `rows` output channels at a time (a multiple of 5; OC:
// whole), each chunk transformed into dw before the next (the same bits).
size_t gb_conv2d_winograd_backward_dw_scratch_bytes(const gb_conv2d_shape *s, int tile, int rows);
void gb_conv2d_winograd_backward_dw(const gb_conv2d_shape *s, int tile, int rows, const float *x, const float *dy,
                                    float *dw, int store, void *scratch);

#endif
