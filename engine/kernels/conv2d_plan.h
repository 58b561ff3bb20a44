// conv2d_plan.h: how one convolution runs, decided in one place, in the
// spirit of XNNPACK's operator create / reshape / run:
//
//   plan     gb_conv2d_plan_make(shape, what needs a gradient, gated, weights?)
//            picks the algorithm of the forward, dx and dw (im2col + GEMM,
//            fused or not, or Winograd), their tiles, whether Winograd's
//            transformed weights are kept or made per call, and the scratch
//            each run needs (conv2d_plan.c: one function per decision, each
//            with its rule and the test that guards it).
//   weights  gb_conv2d_weights owns the transformed copies of one layer's
//            weights (Winograd's U for the forward and for dx, or w packed
//            for im2col's GEMM) and the version they were made from
//            (conv2d_weights.c). The only memory the kernels layer allocates.
//   run      gb_conv2d_run_forward / gb_conv2d_run_backward: plan + weights +
//            buffers + scratch, no decisions left (conv2d_run.c).
//
// A layer calls: plan_make, weights_prepare_* (may step the plan down to
// im2col when memory runs out), then asks the plan for its scratch and runs.
// Without a weights object (a one-off conv, the lesson's gradient checks) a
// plan is im2col everywhere, w packed per call.
#ifndef GB_CONV2D_PLAN_H
#define GB_CONV2D_PLAN_H

#include <stddef.h>

#include "conv2d.h"

typedef enum gb_conv2d_algo {
    GB_CONV2D_NONE = 0,         // not needed (a gradient nobody asked for)
    GB_CONV2D_IM2COL,           // im2col + GEMM, w packed per call (conv2d.c)
    GB_CONV2D_IM2COL_PACKED,    // the same from the weights object's packed w (forward only)
    GB_CONV2D_WINOGRAD,         // 3x3 stride 1: Winograd F(tile x tile, 3x3) (conv2d_winograd.h)
} gb_conv2d_algo;

typedef struct gb_conv2d_plan {
    gb_conv2d_shape s;
    // Asked for.
    int need_dx, need_dw;       // which gradients backward computes
    int gated;                  // the output feeds a ReLU gate backward reads, or a train-mode BatchNorm
    int weights;                // the caller has a gb_conv2d_weights for this layer
    // Decided.
    gb_conv2d_algo fwd, dx, dw;
    int fwd_tile, dx_tile, dw_tile;   // Winograd's output tile, 2 or 4 (0: not Winograd)
    int fwd_fused;              // the forward runs fused (im2col panels, or Winograd chunks per thread)
    int transient;              // U or packed w made per call in the scratch, not kept (gated)
    int fwd_rows, dx_rows, dw_rows;   // U (dw: dU^T) made that many output channels at a time (0: whole)
    size_t fwd_u_bytes, dx_u_bytes;   // a whole transient U, in front of the scratch (64-byte multiples; 0: none)
    size_t fwd_scratch_bytes;   // scratch of gb_conv2d_run_forward, U included
    size_t bwd_scratch_bytes;   // scratch of gb_conv2d_run_backward, U included
} gb_conv2d_plan;

gb_conv2d_plan gb_conv2d_plan_make(const gb_conv2d_shape *s, int need_dx, int need_dw, int gated, int weights);

// The decisions, one function each (conv2d_plan.c states the rules).
int gb_conv2d_plan_forward_tile(const gb_conv2d_shape *s, int gated);
int gb_conv2d_plan_dx_tile(const gb_conv2d_shape *s);
int gb_conv2d_plan_dw_tile(const gb_conv2d_shape *s);
int gb_conv2d_plan_transient(int gated);
// Output channels per chunk of a per-call U (or dU^T) of rows x cols, or 0: whole.
int gb_conv2d_plan_chunk_rows(int rows, int cols, int tile);
int gb_conv2d_plan_im2col_fused(const gb_conv2d_shape *s);
// Tiles per fused Winograd chunk (whole B panels), or 0: staged.
int gb_conv2d_plan_winograd_chunk(const gb_conv2d_shape *s, int tile);
// Steps the forward (dx) down to im2col with w packed per call, when its
// transformed weights could not be kept (conv2d_weights.c: out of memory).
void gb_conv2d_plan_without_kept_forward(gb_conv2d_plan *p);
void gb_conv2d_plan_without_kept_dx(gb_conv2d_plan *p);
// For tests: Winograd's forward and dx run fused when U takes at most
// max_u_bytes (or 4x that, given many chunks), with chunks whose V and M take
// about stage_bytes; (0, 0) restores the defaults, max_u_bytes 1 turns fusion
// off. The scratch sizes follow the setting. Results do not change.
void gb_conv2d_plan_set_fusion(size_t max_u_bytes, size_t stage_bytes);

// One transformed copy of a layer's weights, kept while they stay the same
// tensor (src) at the same version (a frozen backbone: once per load).
typedef struct gb_conv2d_kept {
    float *u;                 // malloc'd; gb_conv2d_weights_free gives it back
    size_t floats;
    const void *src;          // what it was made from (the weight tensor)
    unsigned version;
    int layout;               // Winograd's tile (2 or 4), 0 for im2col's packing
} gb_conv2d_kept;

// A layer's transformed weights: the forward's (Winograd's U of w, or w
// packed for im2col's GEMM) and dx's (Winograd's U of w turned by 180
// degrees and transposed, made on the first backward that needs it).
typedef struct gb_conv2d_weights {
    gb_conv2d_kept fwd, dx;
} gb_conv2d_weights;
void gb_conv2d_weights_free(gb_conv2d_weights *wt);

// Bring the copies a plan's forward (backward) reads up to date with w
// (src, version say which weights it is): made or remade when w has
// changed, freed when the plan makes them per call. When memory runs out
// the plan steps down to im2col (and its scratch with it).
void gb_conv2d_weights_prepare_forward(gb_conv2d_weights *wt, gb_conv2d_plan *p, const float *w, const void *src,
                                       unsigned version);
void gb_conv2d_weights_prepare_backward(gb_conv2d_weights *wt, gb_conv2d_plan *p, const float *w, const void *src,
                                        unsigned version);

// y = conv(x, w), y overwritten; scratch: p->fwd_scratch_bytes (64-aligned).
void gb_conv2d_run_forward(const gb_conv2d_plan *p, const gb_conv2d_weights *wt, const float *w, const float *x,
                           float *y, void *scratch);
// The same with an eval BatchNorm (+ ReLU) applied as y is stored (conv2d.h;
// NULL: none): the bits of the conv, then the BatchNorm pass, then the ReLU.
void gb_conv2d_run_forward_epilogue(const gb_conv2d_plan *p, const gb_conv2d_weights *wt, const float *w,
                                    const float *x, float *y, void *scratch, const gb_conv2d_epilogue *e);
// dx and dw (either NULL when p does not need it) of y = conv(x, w) from dy.
// Both add (as .grad does), or with store_dx / store_dw (allowed where the
// plan says gb_conv2d_plan_stores) overwrite: the same bits as adding onto
// -0.0. scratch: p->bwd_scratch_bytes.
void gb_conv2d_run_backward(const gb_conv2d_plan *p, const gb_conv2d_weights *wt, const float *x, const float *w,
                            const float *dy, float *dx, int store_dx, float *dw, int store_dw, void *scratch);
// Can that part (p->dx or p->dw) store instead of adding? Winograd's can;
// im2col's col2im and GEMM add.
static inline int gb_conv2d_plan_stores(gb_conv2d_algo a) { return a == GB_CONV2D_WINOGRAD; }

#endif
