// gb_broadcast.h: PyTorch broadcasting for elementwise ops.
//
// Shapes are aligned on the right; each pair of sizes must be equal or one
// of them 1, and the output takes the larger. An input with size 1 (or no
// dimension) along an axis is read with stride 0 there, so the same value
// meets every output element along it. In backward the same walk *adds*
// into stride-0 positions, which is exactly the sum over broadcast axes.
#ifndef GB_BROADCAST_H
#define GB_BROADCAST_H

#include "gb_tensor.h"

typedef struct gb_bcast {
    int ndim;                      // output rank
    int shape[GB_MAX_DIMS];        // output shape
    int numel;
    int shape4[GB_MAX_DIMS];       // output shape padded on the left to 4 dims
    int stride_a[GB_MAX_DIMS];     // element strides of a and b over shape4 (0 = broadcast)
    int stride_b[GB_MAX_DIMS];
} gb_bcast;

// Fills `bc` for a ∘ b, or returns PyTorch's error for shapes that do not fit.
gb_status gb_bcast_init(gb_bcast *bc, const gb_tensor *a, const gb_tensor *b);

// The walk over the output in order: `idx` is the 4-d position, `*off_a` and
// `*off_b` the matching input offsets; call after each element.
static inline void gb_bcast_next(const gb_bcast *bc, int idx[GB_MAX_DIMS], int *off_a, int *off_b) {
    for (int d = GB_MAX_DIMS - 1; d >= 0; d--) {
        idx[d]++;
        *off_a += bc->stride_a[d];
        *off_b += bc->stride_b[d];
        if (idx[d] < bc->shape4[d]) return;
        *off_a -= bc->stride_a[d] * idx[d];
        *off_b -= bc->stride_b[d] * idx[d];
        idx[d] = 0;
    }
}

#endif
