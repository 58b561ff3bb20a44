// flatten.c: torch.flatten(x, 1): (N, C, H, W) → (N, C·H·W) (ViewBackward0).
//   forward   the same numbers, another shape (a view: no copy)
//   backward  dx += dy, read with x's shape
#include "gb_layers.h"

static void flatten_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    const float *dy = node->output->flow;
    float *dx = gb_flow(g, x);
    if (!dx) return;
    for (int i = 0; i < x->numel; i++) dx[i] += dy[i];
}

static void flatten_describe(const gb_node *node, gb_sb *sb, int locals) {
    if (locals) gb_desc_local(sb, node, 0, "1 (same numbers, shape restored)");
}

const gb_op_def gb_op_flatten = { .name = "ViewBackward0", .backward = flatten_backward,
                                  .describe = flatten_describe, .saves_tensors = 0,
                                  .unread = GB_UNREAD_INPUT(0) | GB_UNREAD_OUTPUT };

gb_status gb_flatten(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    if (x->ndim < 2) return gb_set_error(GB_ERR_SHAPE, "flatten(x, 1) needs at least 2 dimensions, got %d", x->ndim);
    int shape[2] = { x->shape[0], x->shape[0] ? x->numel / x->shape[0] : 0 };
    gb_tensor *y = gb_graph_view(g, x, 2, shape);
    if (!y) return GB_ERR_NOMEM;
    gb_graph_record(g, &gb_op_flatten, y, &x, 1, NULL);
    *out = y;
    return GB_OK;
}
