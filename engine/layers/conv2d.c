// conv2d.c: 2-D convolution, ResNet's workhorse (ConvolutionBackward0).
//   forward   y[n,o,i,j] = Σ_{c,kh,kw} w[o,c,kh,kw] · x[n,c, i·s+kh−p, j·s+kw−p]
//   backward  dx = the same sums run backwards (each x feeds every y whose
//             window covers it), dw[o,c,kh,kw] = Σ_{n,i,j} dy[n,o,i,j] · x[...]
// How they are computed is engine/kernels' business: a plan picks im2col +
// GEMM or, for a layer with its own weights object, Winograd's algorithm
// for 3×3 stride-1 layers, and the tiles (engine/kernels/conv2d_plan.c);
// run functions compute. Only the gradients that are needed are computed: a
// frozen weight (requires_grad=False) costs no dw, an input image no dx.
#include "gb_layers.h"

#include "../kernels/batchnorm.h"
#include "../kernels/conv2d_plan.h"

static gb_conv2d_shape shape_of(const gb_tensor *x, const gb_tensor *w, int stride, int padding) {
    return gb_conv2d_shape_make(x->shape[0], x->shape[1], x->shape[2], x->shape[3], w->shape[0],
                                w->shape[2], w->shape[3], stride, padding);
}

// What runs (im2col, fused or not, Winograd's tiles, kept or transient
// transformed weights) is the plan's (engine/kernels/conv2d_plan.c); the
// node keeps the layer's weights object (p.saved) and whether the forward
// was gated (p.training), and backward plans from those.
static void conv2d_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0], *w = node->inputs[1];
    const int need_dx = gb_needs_grad(x), need_dw = gb_needs_grad(w);
    if (!need_dx && !need_dw) return;
    gb_conv2d_weights *weights = node->p.saved;
    gb_conv2d_shape s = shape_of(x, w, node->p.stride, node->p.padding);
    gb_conv2d_plan plan = gb_conv2d_plan_make(&s, need_dx, need_dw, node->p.training, weights != NULL);
    if (weights) gb_conv2d_weights_prepare_backward(weights, &plan, w->data, w, w->version);
    // A part that can store (Winograd's) takes a new flow without zeroing it.
    int store_dx = 0, store_dw = 0;
    float *dx = !need_dx ? NULL : gb_conv2d_plan_stores(plan.dx) ? gb_flow_for_store(g, x, &store_dx) : gb_flow(g, x);
    float *dw = !need_dw ? NULL : gb_conv2d_plan_stores(plan.dw) ? gb_flow_for_store(g, w, &store_dw) : gb_flow(g, w);
    if ((need_dx && !dx) || (need_dw && !dw)) return;   // out of memory (gb_flow says so)
    void *scratch = gb_graph_scratch(g, plan.bwd_scratch_bytes);
    if (!scratch) { g->out_of_memory = 1; return; }
    gb_conv2d_run_backward(&plan, weights, x->data, w->data, node->output->flow, dx, store_dx, dw, store_dw, scratch);
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

// The work area conv2d_backward asks for: its plan's, made the same way
// without making anything (gb_op_def.backward_scratch: a planned step
// places it).
static size_t conv2d_backward_scratch(const gb_node *node) {
    const gb_tensor *x = node->inputs[0], *w = node->inputs[1];
    const int need_dx = gb_needs_grad(x), need_dw = gb_needs_grad(w);
    if (!need_dx && !need_dw) return 0;
    gb_conv2d_shape s = shape_of(x, w, node->p.stride, node->p.padding);
    return gb_conv2d_plan_make(&s, need_dx, need_dw, node->p.training, node->p.saved != NULL).bwd_scratch_bytes;
}

const gb_op_def gb_op_conv2d = { .name = "ConvolutionBackward0", .backward = conv2d_backward,
                                 .describe = conv2d_describe, .saves_tensors = 1,
                                 .unread = GB_UNREAD_OUTPUT, .backward_scratch = conv2d_backward_scratch };

gb_status gb_conv2d(gb_graph *g, gb_tensor *x, gb_tensor *w, int stride, int padding, gb_tensor **out) {
    return gb_conv2d_cached(g, x, w, stride, padding, NULL, 0, out);
}

// The forward of both: with bn, an eval BatchNorm (and the ReLU after it)
// applied as the conv stores y, in a forward no gradient goes through.
static gb_status conv2d_forward(gb_graph *g, gb_tensor *x, gb_tensor *w, int stride, int padding,
                                gb_conv2d_weights *weights, int gated, const gb_bn_params *bn, int relu,
                                gb_tensor **out) {
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
    gb_conv2d_plan plan = gb_conv2d_plan_make(&s, gb_needs_grad(x), gb_needs_grad(w), gated, weights != NULL);
    if (weights) gb_conv2d_weights_prepare_forward(weights, &plan, w->data, w, w->version);
    void *scratch = gb_graph_scratch(g, plan.fwd_scratch_bytes);
    if (!scratch) return gb_set_error(GB_ERR_NOMEM, "conv2d: out of memory");
    gb_conv2d_epilogue e = { .relu = relu };
    if (bn) {   // y = conv * scale + shift (then max(., 0)): BatchNorm2d in eval mode
        float *coeffs = gb_arena_alloc(&g->arena, 2 * (size_t)s.OC * sizeof(float));
        if (!coeffs) return gb_set_error(GB_ERR_NOMEM, "conv2d: out of memory");
        gb_f32_batchnorm_eval_coeffs(s.OC, bn->weight->data, bn->bias->data, bn->running_mean->data,
                                     bn->running_var->data, bn->eps, coeffs, coeffs + s.OC);
        e.scale = coeffs;
        e.shift = coeffs + s.OC;
    }
    if (!gb_graph_measuring(g))   // the plan pass runs no kernel
        gb_conv2d_run_forward_epilogue(&plan, weights, w->data, x->data, y->data, scratch, bn ? &e : NULL);
    gb_op_params p = { .stride = stride, .padding = padding, .training = gated, .saved = weights };
    gb_tensor *inputs[2] = { x, w };
    gb_graph_record(g, &gb_op_conv2d, y, inputs, 2, &p);
    *out = y;
    return GB_OK;
}

gb_status gb_conv2d_cached(gb_graph *g, gb_tensor *x, gb_tensor *w, int stride, int padding,
                           gb_conv2d_weights *weights, int gated, gb_tensor **out) {
    return conv2d_forward(g, x, w, stride, padding, weights, gated, NULL, 0, out);
}

int gb_conv2d_bn_eval_ok(const gb_graph *g, const gb_tensor *x, const gb_tensor *w, const gb_bn_params *bn,
                         int bn_training) {
    if (bn_training || bn->weight->numel != w->shape[0]) return 0;
    return !g->grad_enabled || !(gb_needs_grad(x) || gb_needs_grad(w) || gb_needs_grad(bn->weight) ||
                                 gb_needs_grad(bn->bias));
}

gb_status gb_conv2d_bn_eval(gb_graph *g, gb_tensor *x, gb_tensor *w, int stride, int padding,
                            gb_conv2d_weights *weights, int gated, const gb_bn_params *bn, int relu,
                            gb_tensor **out) {
    GB_ASSERT(gb_conv2d_bn_eval_ok(g, x, w, bn, 0), "conv2d + batchnorm: a gradient would go through");
    return conv2d_forward(g, x, w, stride, padding, weights, gated, bn, relu, out);
}
