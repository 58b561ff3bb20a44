// sum.c: sum of all elements (SumBackward0) or along one dim (SumBackward1).
//   forward   y = Σ_k x[.., k, ..]
//   backward  dx[.., k, ..] += dy[..]    every term of a sum has derivative 1,
//                                        so dy is copied back along the summed dim
// The full sum is the same with a view of (1, numel, 1). `mean` in mean.c
// reuses these loops with a scale of 1/n.
#include "reduce_common.h"

gb_status gb_reduce_dim(gb_graph *g, const gb_op_def *op, gb_tensor *x, int dim, int mean,
                        gb_tensor **out) {
    gb_reduce_view v;
    gb_tensor *y;
    if (dim < 0) {   // all elements
        v = (gb_reduce_view){ 1, x->numel, 1 };
        y = gb_graph_tensor(g, 0, NULL);
    } else {
        v = gb_reduce_view_of(x, dim);
        int shape[GB_MAX_DIMS], nd = 0;
        for (int d = 0; d < x->ndim; d++)
            if (d != dim) shape[nd++] = x->shape[d];
        y = gb_graph_tensor(g, nd, shape);
    }
    if (!y) return GB_ERR_NOMEM;
    double scale = mean ? 1.0 / v.size : 1.0;   // mean of 0 elements is nan, as in PyTorch
    for (int o = 0; o < v.outer && !gb_graph_measuring(g); o++)   // the plan pass runs no loop
        for (int i = 0; i < v.inner; i++) {
            double acc = 0;
            for (int k = 0; k < v.size; k++) acc += x->data[((size_t)o * v.size + k) * v.inner + i];
            y->data[(size_t)o * v.inner + i] = (float)(acc * scale);
        }
    gb_op_params p = { .dim = dim, .in_ndim = x->ndim };
    for (int d = 0; d < x->ndim; d++) p.in_shape[d] = x->shape[d];
    gb_graph_record(g, op, y, &x, 1, &p);
    *out = y;
    return GB_OK;
}

void gb_reduce_dim_backward(gb_node *node, gb_graph *g, int mean) {
    gb_tensor *x = node->inputs[0];
    const float *dy = node->output->flow;
    float *dx = gb_flow(g, x);
    if (!dx) return;
    gb_reduce_view v = node->p.dim < 0 ? (gb_reduce_view){ 1, x->numel, 1 }
                                       : gb_reduce_view_of(x, node->p.dim);
    float scale = mean ? 1.0f / (float)v.size : 1.0f;
    for (int o = 0; o < v.outer; o++)
        for (int k = 0; k < v.size; k++)
            for (int i = 0; i < v.inner; i++)
                dx[((size_t)o * v.size + k) * v.inner + i] += dy[(size_t)o * v.inner + i] * scale;
}

static void sum_backward(gb_node *node, gb_graph *g) { gb_reduce_dim_backward(node, g, 0); }

static void sum_describe(const gb_node *node, gb_sb *sb, int locals) {
    if (!locals) {
        if (node->p.dim >= 0) gb_desc_saved_scalar(sb, "dim", node->p.dim);
        return;
    }
    gb_desc_local(sb, node, 0, node->p.dim < 0 ? "1 (for every element)" : "1 (along dim %d)", node->p.dim);
}

const gb_op_def gb_op_sum = { .name = "SumBackward0", .backward = sum_backward,
                              .describe = sum_describe, .saves_tensors = 0 };
const gb_op_def gb_op_sum_dim = { .name = "SumBackward1", .backward = sum_backward,
                                  .describe = sum_describe, .saves_tensors = 0 };

gb_status gb_sum(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return gb_reduce_dim(g, &gb_op_sum, x, -1, 0, out);
}

gb_status gb_sum_dim(gb_graph *g, gb_tensor *x, int dim, gb_tensor **out) {
    int d;
    GB_TRY(gb_wrap_dim(dim, x->ndim, &d));
    if (x->ndim == 0) return gb_reduce_dim(g, &gb_op_sum_dim, x, -1, 0, out);
    return gb_reduce_dim(g, &gb_op_sum_dim, x, d, 0, out);
}
