// pool2d.h: max pooling (ResNet's 3x3 stride-2 pad-1 stem pool) and global
// average pooling (ResNet's head), NCHW, forward and backward side by side.
//
//   maxpool   y[n,c,i,j] = max over the window at (i*s-p, j*s-p) of x; padding is -inf
//             backward: dx[n,c,argmax] += dy[n,c,i,j]   the gradient goes to the winner
//   avgpool   y[n,c] = mean_{h,w} x[n,c,h,w]
//             backward: dx[n,c,h,w] += dy[n,c] / (H*W)
// The forward saves argmax so backward does not re-scan: the winner's place
// in its K x K window, (h - h0) * K + (w - w0) from the window's corner
// (h0, w0) = (i*s-p, j*s-p), one byte (K <= GB_MAXPOOL_MAX_K): 1/4 of a plane
// offset's int32 (the stem's pool at batch 16: 3 MB instead of 12). Ties go
// to the first maximum in scan order and NaN wins, as in PyTorch's CPU
// kernel. Threads split the N*C planes; dx is written per plane by one
// thread in a fixed order (deterministic).
#ifndef GB_POOL2D_H
#define GB_POOL2D_H

#include <stddef.h>
#include <stdint.h>

typedef struct gb_pool2d_shape {
    int N, C, H, W;
    int K, stride, pad;      // square window
    int OH, OW;              // filled by gb_pool2d_shape_make
} gb_pool2d_shape;

#define GB_MAXPOOL_MAX_K 15   // a window's K*K places fit a byte

gb_pool2d_shape gb_pool2d_shape_make(int N, int C, int H, int W, int K, int stride, int pad);
// y (N,C,OH,OW) overwritten; argmax (same size) may be NULL in inference.
void gb_f32_maxpool2d_forward(const gb_pool2d_shape *s, const float *x, float *y, uint8_t *argmax);
void gb_f32_maxpool2d_backward(const gb_pool2d_shape *s, const uint8_t *argmax, const float *dy,
                               float *dx);

// x (N,C,H,W) -> y (N,C); backward accumulates into dx.
void gb_f32_global_avgpool_forward(int N, int C, int HW, const float *x, float *y);
void gb_f32_global_avgpool_backward(int N, int C, int HW, const float *dy, float *dx);

#endif
