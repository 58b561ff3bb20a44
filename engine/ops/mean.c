// mean.c: mean of all elements (MeanBackward0) or along one dim (MeanBackward1).
//   forward   y = (1/n) Σ_k x[.., k, ..]
//   backward  dx[.., k, ..] += dy[..] / n
// The loops are sum's (sum.c) with a scale of 1/n.
#include "reduce_common.h"

static void mean_backward(gb_node *node, gb_graph *g) { gb_reduce_dim_backward(node, g, 1); }

static void mean_describe(const gb_node *node, gb_sb *sb, int locals) {
    const gb_tensor *x = node->inputs[0];
    int n = node->p.dim < 0 ? x->numel : x->shape[node->p.dim];
    if (!locals) {
        if (node->p.dim >= 0) {
            gb_desc_saved_scalar(sb, "dim", node->p.dim);
            gb_desc_saved_tensor(sb, "self", x);
        } else {
            gb_desc_saved_scalar(sb, "self_numel", x->numel);
        }
        return;
    }
    gb_desc_local(sb, node, 0, "1/%d (for every element)", n);
}

const gb_op_def gb_op_mean = { .name = "MeanBackward0", .backward = mean_backward,
                               .describe = mean_describe, .saves_tensors = 0 };
// NOTE: PyTorch's MeanBackward1 keeps `self` to find the size it divides by,
// so unlike the full mean it cannot run twice without retain_graph.
const gb_op_def gb_op_mean_dim = { .name = "MeanBackward1", .backward = mean_backward,
                                   .describe = mean_describe, .saves_tensors = 1 };

gb_status gb_mean(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return gb_reduce_dim(g, &gb_op_mean, x, -1, 1, out);
}

gb_status gb_mean_dim(gb_graph *g, gb_tensor *x, int dim, gb_tensor **out) {
    int d;
    GB_TRY(gb_wrap_dim(dim, x->ndim, &d));
    if (x->ndim == 0) return gb_reduce_dim(g, &gb_op_mean_dim, x, -1, 1, out);
    return gb_reduce_dim(g, &gb_op_mean_dim, x, d, 1, out);
}
