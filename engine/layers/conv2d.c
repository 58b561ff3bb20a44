// conv2d.c: 2-D convolution, ResNet's workhorse (ConvolutionBackward0).
//   forward   y[n,o,i,j] = Σ_{c,kh,kw} w[o,c,kh,kw] · x[n,c, i·s+kh−p, j·s+kw−p]
//   backward  dx = the same sums run backwards (each x feeds every y whose
//             window covers it), dw[o,c,kh,kw] = Σ_{n,i,j} dy[n,o,i,j] · x[...]
// Both are GEMMs over im2col(x) in engine/kernels/conv2d.c, which states the
// layout; with a cache, 3×3 stride-1 layers use Winograd's algorithm
// (engine/kernels/conv2d_winograd.c: F(2×2, 3×3), or F(4×4, 3×3) where it
// is faster: larger images, or larger batches) for y, dx and dw instead.
// Only the gradients that are needed are computed: a frozen weight
// (requires_grad=False) costs no dw, an input image no dx.
#include "gb_layers.h"

#include <stdlib.h>

#include "../kernels/conv2d.h"

static gb_conv2d_shape shape_of(const gb_tensor *x, const gb_tensor *w, int stride, int padding) {
    return gb_conv2d_shape_make(x->shape[0], x->shape[1], x->shape[2], x->shape[3], w->shape[0],
                                w->shape[2], w->shape[3], stride, padding);
}

// Transformed weights for w (Winograd's U for a tile = layout, or w packed
// for im2col's GEMM, layout 0), remade when w is another tensor or has
// changed, or the layout has; NULL (the uncached path is used) when memory
// runs out.
typedef void (*weights_transform)(const gb_conv2d_shape *s, int layout, const float *w, float *u);
static const float *transformed_weights(gb_conv2d_transformed *t, const gb_conv2d_shape *s, const gb_tensor *w,
                                        size_t floats, int layout, weights_transform transform) {
    if (t->u && t->w == w && t->version == w->version && t->layout == layout) return t->u;
    if (floats > t->floats) {
        free(t->u);
        t->u = malloc(floats * sizeof(float));
        t->floats = t->u ? floats : 0;
        if (!t->u) return NULL;
    }
    transform(s, layout, w->data, t->u);
    t->w = w;
    t->version = w->version;
    t->layout = layout;
    return t->u;
}

// The forward's Winograd output tile: 4 (F(4×4, 3×3)) where it is faster,
// except with cache->small_tiles. Modules set that in train mode, because
// train-mode BatchNorm subtracts the batch mean and divides by the batch's
// standard deviation: in a channel that barely varies over a small batch,
// x − mean is mostly rounding, and F(4×4)'s (5-30× F(2×2)'s) then showed: a
// 14% error in a gradient of the PyTorch fixtures (grads_layer4_fc_train,
// batch 2, layer4.1.bn2 channel 13), where F(2×2) stays at 0.6% of the
// tolerance. The model sets it too whenever backward will pass through a
// ReLU (engine/nn/forward.c): backward reads the ReLUs' gates off the
// forward, and an activation within F(4×4)'s rounding of 0 can land on the
// other side of it; the gradients of everything before that ReLU then differ
// by that position's whole contribution (grads_layer4_fc_eval, with
// fixtures made on an AVX-512 machine: layer4.1.conv1.weight's gradient 3%
// of its largest value away from PyTorch's, where PyTorch's float32 is 1e-7
// from its float64, and so is F(2×2)'s). Inference, and a frozen backbone
// under a trained fc, take the faster tile.
// NOTE: the choice looks at one image, not at the batch (F(4×4) from 4 of its
// tiles, layer4's 7×7 at 224), so an image's outputs are the same bits in any
// batch: features cached image by image are those of a training batch
// (tests/resnet/finetune-engine.test.mjs, "features").
static int winograd_tile(const gb_conv2d_cache *cache, const gb_conv2d_shape *s) {
    if (cache->small_tiles) return 2;
    return ((long)(s->OH + 3) / 4) * ((s->OW + 3) / 4) >= 4 ? 4 : 2;
}

// Winograd's U: one size fits the forward and the dx layout.
static const float *winograd_weights(gb_conv2d_transformed *t, const gb_conv2d_shape *s, const gb_tensor *w, int tile,
                                     weights_transform transform) {
    return transformed_weights(t, s, w, gb_conv2d_winograd_weights_floats(s, tile), tile, transform);
}

// Weights that train (they need a gradient, in train mode) change at every
// optimizer step, so a kept U would never be used twice: theirs is made in
// the graph's scratch for the one call instead, in front of the kernel's
// scratch. Kept, the forward's and dx's Us of a fully trained ResNet-18 took
// ~150 MB. For a Winograd conv with a cache: returns U's bytes in the
// scratch (64-aligned), or 0 when U is kept; a kept one is freed.
static size_t transient_u_bytes(gb_conv2d_transformed *t, const gb_conv2d_cache *cache, const gb_conv2d_shape *s,
                                const gb_tensor *w, int tile) {
    if (!cache->small_tiles || !gb_needs_grad(w)) return 0;
    free(t->u);
    *t = (gb_conv2d_transformed){ 0 };
    return (gb_conv2d_winograd_weights_floats(s, tile) * sizeof(float) + 63) & ~(size_t)63;
}

static void pack_weights(const gb_conv2d_shape *s, int layout, const float *w, float *packed) {
    (void)layout;
    gb_conv2d_pack_weights(s, w, packed);
}

static void conv2d_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0], *w = node->inputs[1];
    gb_conv2d_shape s = shape_of(x, w, node->p.stride, node->p.padding);
    const int need_dx = gb_needs_grad(x), need_dw = gb_needs_grad(w);
    if (!need_dx && !need_dw) return;
    gb_conv2d_cache *cache = node->p.saved;
    // dx of a 3×3 stride-1 layer by Winograd too: it is the same kind of
    // convolution, of dy with the turned weights (conv2d_winograd.c). With
    // the faster tile even in train mode: BatchNorm's backward scales a
    // channel's dy by gamma/std as a whole, so dx's error stays relative to
    // dy's size (no x − mean of near-equal values as in the forward). The
    // full-network fixture (grads_all_train, against float64) is as close
    // with F(4×4) dx as with F(2×2): at most 0.57 of its bound.
    const int tile = cache && gb_conv2d_winograd_ok(&s) ? gb_conv2d_winograd_tile(&s) : 0;
    const size_t u_bytes = need_dx && tile ? transient_u_bytes(&cache->dx, cache, &s, w, tile) : 0;
    const float *u_dx = need_dx && tile && !u_bytes
                            ? winograd_weights(&cache->dx, &s, w, tile, gb_conv2d_winograd_transform_weights_dx)
                            : NULL;
    // So is dw (from x and dy, no weights), for the layers that cache weights,
    // with its own faster tile (F(4×4) needs more tiles to pay there):
    // dw goes to the optimizer, not through BatchNorm (F(4×4)'s dw is within
    // 1e-6 to 6e-6 of the largest |dw| from double, F(2×2)'s 2e-7 to 1.2e-6:
    // GB_SHOW_ERR=1 in tests/kernels).
    const int dw_tile = need_dw && tile ? gb_conv2d_winograd_dw_tile(&s) : 0;
    // Winograd's dx and dw can store into a new flow instead of adding to
    // -0.0 (gb_flow_for_store); im2col's col2im and GEMM add.
    const int wino_dx = u_dx || u_bytes;   // U kept (NULL if memory ran out: im2col) or made below
    int store_dx = 0, store_dw = 0;
    float *dx = !need_dx ? NULL : wino_dx ? gb_flow_for_store(g, x, &store_dx) : gb_flow(g, x);
    float *dw = !need_dw ? NULL : dw_tile ? gb_flow_for_store(g, w, &store_dw) : gb_flow(g, w);
    if ((need_dx && !dx) || (need_dw && !dw)) return;   // out of memory (gb_flow says so)
    float *im2col_dx = wino_dx ? NULL : dx, *im2col_dw = dw_tile ? NULL : dw;   // the rest: im2col
    size_t bytes = 0, b;   // one scratch serves the parts in turn (after a transient U)
    if (wino_dx && (b = gb_conv2d_winograd_backward_dx_scratch_bytes(&s, tile)) > bytes) bytes = b;
    if (dw_tile && (b = gb_conv2d_winograd_backward_dw_scratch_bytes(&s, dw_tile)) > bytes) bytes = b;
    if ((im2col_dx || im2col_dw) && (b = gb_conv2d_backward_scratch_bytes(&s)) > bytes) bytes = b;
    char *scratch = gb_graph_scratch(g, u_bytes + bytes);
    if (!scratch) { g->out_of_memory = 1; return; }
    if (u_bytes) {
        gb_conv2d_winograd_transform_weights_dx(&s, tile, w->data, (float *)scratch);
        u_dx = (const float *)scratch;
        scratch += u_bytes;
    }
    const float *dy = node->output->flow;
    if (dw_tile) gb_conv2d_winograd_backward_dw(&s, dw_tile, x->data, dy, dw, store_dw, scratch);
    if (wino_dx) gb_conv2d_winograd_backward_dx(&s, tile, u_dx, dy, dx, store_dx, scratch);
    if (im2col_dx || im2col_dw) gb_conv2d_backward(&s, x->data, w->data, dy, im2col_dx, im2col_dw, scratch);
}

// The work area conv2d_backward asks for, by the same choices, without
// making anything (gb_op_def.backward_scratch: a planned step places it).
static size_t conv2d_backward_scratch(const gb_node *node) {
    const gb_tensor *x = node->inputs[0], *w = node->inputs[1];
    gb_conv2d_shape s = shape_of(x, w, node->p.stride, node->p.padding);
    const int need_dx = gb_needs_grad(x), need_dw = gb_needs_grad(w);
    const gb_conv2d_cache *cache = node->p.saved;
    const int tile = cache && gb_conv2d_winograd_ok(&s) ? gb_conv2d_winograd_tile(&s) : 0;
    const size_t u_bytes = need_dx && tile && cache->small_tiles && need_dw
                               ? (gb_conv2d_winograd_weights_floats(&s, tile) * sizeof(float) + 63) & ~(size_t)63 : 0;
    const int wino_dx = need_dx && tile, dw_tile = need_dw && tile ? gb_conv2d_winograd_dw_tile(&s) : 0;
    size_t bytes = 0, b;
    if (wino_dx && (b = gb_conv2d_winograd_backward_dx_scratch_bytes(&s, tile)) > bytes) bytes = b;
    if (dw_tile && (b = gb_conv2d_winograd_backward_dw_scratch_bytes(&s, dw_tile)) > bytes) bytes = b;
    if (((need_dx && !wino_dx) || (need_dw && !dw_tile)) && (b = gb_conv2d_backward_scratch_bytes(&s)) > bytes) bytes = b;
    return u_bytes + bytes;
}

static void conv2d_describe(const gb_node *node, gb_sb *sb, int locals) {
    if (!locals) {
        gb_desc_saved_scalar(sb, "stride", node->p.stride);
        gb_desc_saved_scalar(sb, "padding", node->p.padding);
        return;
    }
    gb_desc_local(sb, node, 0, "conv_transpose2d(dy, w)");
    gb_desc_local(sb, node, 1, "conv2d(x, dy) over the batch");
}

const gb_op_def gb_op_conv2d = { .name = "ConvolutionBackward0", .backward = conv2d_backward,
                                 .describe = conv2d_describe, .saves_tensors = 1,
                                 .unread = GB_UNREAD_OUTPUT, .backward_scratch = conv2d_backward_scratch };

void gb_conv2d_cache_free(gb_conv2d_cache *cache) {
    free(cache->fwd.u);
    free(cache->dx.u);
    *cache = (gb_conv2d_cache){ 0 };
}

gb_status gb_conv2d(gb_graph *g, gb_tensor *x, gb_tensor *w, int stride, int padding, gb_tensor **out) {
    return gb_conv2d_cached(g, x, w, stride, padding, NULL, out);
}

gb_status gb_conv2d_cached(gb_graph *g, gb_tensor *x, gb_tensor *w, int stride, int padding,
                           gb_conv2d_cache *cache, gb_tensor **out) {
    if (x->ndim != 4 || w->ndim != 4)
        return gb_set_error(GB_ERR_SHAPE, "conv2d: expected a 4-D input and weight, got %dD and %dD", x->ndim, w->ndim);
    if (x->shape[1] != w->shape[1])
        return gb_set_error(GB_ERR_SHAPE,
                            "Given groups=1, weight of size [%d, %d, %d, %d], expected input[%d, %d, %d, %d] "
                            "to have %d channels, but got %d channels instead",
                            w->shape[0], w->shape[1], w->shape[2], w->shape[3], x->shape[0], x->shape[1],
                            x->shape[2], x->shape[3], w->shape[1], x->shape[1]);
    if (stride < 1 || padding < 0) return gb_set_error(GB_ERR_ARG, "conv2d: stride %d, padding %d", stride, padding);
    gb_conv2d_shape s = shape_of(x, w, stride, padding);
    if (s.OH < 1 || s.OW < 1)
        return gb_set_error(GB_ERR_SHAPE, "conv2d: the %dx%d input is smaller than the %dx%d kernel",
                            x->shape[2] + 2 * padding, x->shape[3] + 2 * padding, w->shape[2], w->shape[3]);
    int shape[4] = { s.N, s.OC, s.OH, s.OW };
    gb_tensor *y = gb_graph_tensor(g, 4, shape);
    if (!y) return gb_set_error(GB_ERR_NOMEM, "conv2d: out of memory");
    // With a cache, the weights' transform is kept while w does not change:
    // Winograd's U for 3×3 stride-1 layers, else w packed for the GEMM.
    const int wino = gb_conv2d_winograd_ok(&s), tile = cache && wino ? winograd_tile(cache, &s) : 0;
    const size_t u_bytes = tile ? transient_u_bytes(&cache->fwd, cache, &s, w, tile) : 0;
    const float *u = tile && !u_bytes ? winograd_weights(&cache->fwd, &s, w, tile, gb_conv2d_winograd_transform_weights)
                                      : NULL;
    const float *wp = cache && !wino ? transformed_weights(&cache->fwd, &s, w, gb_conv2d_packed_weights_floats(&s), 0,
                                                           pack_weights) : NULL;
    const int use_wino = u || u_bytes;   // U kept (NULL if memory ran out: im2col) or made below
    char *scratch = gb_graph_scratch(g, u_bytes + (use_wino ? gb_conv2d_winograd_scratch_bytes(&s, tile)
                                                   : wp     ? gb_conv2d_forward_packed_scratch_bytes(&s)
                                                            : gb_conv2d_forward_scratch_bytes(&s)));
    if (!scratch) return gb_set_error(GB_ERR_NOMEM, "conv2d: out of memory");
    if (gb_graph_measuring(g)) goto record;   // the plan pass runs no kernel
    if (u_bytes) {
        gb_conv2d_winograd_transform_weights(&s, tile, w->data, (float *)scratch);
        u = (const float *)scratch;
        scratch += u_bytes;
    }
    if (u) gb_conv2d_winograd_forward(&s, tile, u, x->data, y->data, scratch);
    else if (wp) gb_conv2d_forward_packed(&s, wp, x->data, y->data, scratch);
    else gb_conv2d_forward(&s, x->data, w->data, y->data, scratch);
record:;
    gb_op_params p = { .stride = stride, .padding = padding, .saved = cache };
    gb_tensor *inputs[2] = { x, w };
    gb_graph_record(g, &gb_op_conv2d, y, inputs, 2, &p);
    *out = y;
    return GB_OK;
}
