// view.c: unsqueeze and squeeze, which only change the shape.
//   UnsqueezeBackward0  y = x with a new size-1 dim   dx += dy (reshaped back)
//   SqueezeBackward3    y = x without a size-1 dim    dx += dy (reshaped back)
// The engine copies instead of aliasing memory; the numbers are the same.
#include "gb_ops.h"

#include <string.h>

static void reshape_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    const float *dy = node->output->flow;
    float *dx = gb_flow(g, x);
    if (!dx) return;
    for (int i = 0; i < x->numel; i++) dx[i] += dy[i];
}

static void reshape_describe(const gb_node *node, gb_sb *sb, int locals) {
    if (!locals) { gb_desc_saved_scalar(sb, "dim", node->p.dim); return; }
    gb_desc_local(sb, node, 0, "1 (same numbers, shape restored)");
}

const gb_op_def gb_op_unsqueeze = { .name = "UnsqueezeBackward0", .backward = reshape_backward,
                                    .describe = reshape_describe, .saves_tensors = 0 };
const gb_op_def gb_op_squeeze = { .name = "SqueezeBackward3", .backward = reshape_backward,
                                  .describe = reshape_describe, .saves_tensors = 0 };

static gb_status reshaped(gb_graph *g, const gb_op_def *op, gb_tensor *x, int ndim,
                          const int *shape, int dim, gb_tensor **out) {
    gb_tensor *y = gb_graph_tensor(g, ndim, shape);
    if (!y) return GB_ERR_NOMEM;
    memcpy(y->data, x->data, (size_t)x->numel * sizeof(float));
    gb_op_params p = { .dim = dim };
    gb_graph_record(g, op, y, &x, 1, &p);
    *out = y;
    return GB_OK;
}

gb_status gb_unsqueeze(gb_graph *g, gb_tensor *x, int dim, gb_tensor **out) {
    if (x->ndim >= GB_MAX_DIMS)
        return gb_set_error(GB_ERR_SHAPE, "tensors have at most %d dimensions here", GB_MAX_DIMS);
    int d;
    GB_TRY(gb_wrap_dim(dim, x->ndim + 1, &d));
    int shape[GB_MAX_DIMS], nd = 0;
    for (int k = 0; k <= x->ndim; k++) {
        if (k == d) shape[nd++] = 1;
        if (k < x->ndim) shape[nd++] = x->shape[k];
    }
    return reshaped(g, &gb_op_unsqueeze, x, nd, shape, d, out);
}

gb_status gb_squeeze_dim(gb_graph *g, gb_tensor *x, int dim, gb_tensor **out) {
    int d;
    GB_TRY(gb_wrap_dim(dim, x->ndim, &d));
    int shape[GB_MAX_DIMS], nd = 0;
    for (int k = 0; k < x->ndim; k++)
        if (k != d || x->shape[k] != 1) shape[nd++] = x->shape[k];
    return reshaped(g, &gb_op_squeeze, x, nd, shape, d, out);
}
