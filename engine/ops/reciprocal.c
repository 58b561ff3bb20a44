// reciprocal.c: y = 1/x. Python's `2 / a` is a.reciprocal() * 2 in PyTorch.
//   forward   y = 1 / x
//   backward  dx += dy * (-y²)     (d(1/x)/dx = -1/x²: reuse the output)
#include "gb_ops.h"

#include <math.h>

static float reciprocal_f(float x) { return 1.0f / x; }

static void reciprocal_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    const float *y = node->output->data, *dy = node->output->flow;
    float *dx = gb_flow(g, x);
    if (!dx) return;
    for (int i = 0; i < x->numel; i++) dx[i] += dy[i] * -(y[i] * y[i]);
}

static void reciprocal_describe(const gb_node *node, gb_sb *sb, int locals) {
    char lx[96];
    gb_label(node->inputs[0], lx, sizeof lx);
    if (!locals) { gb_desc_saved_tensor(sb, "result", node->output); return; }
    gb_desc_local(sb, node, 0, "-1/%s²", lx);
}

const gb_op_def gb_op_reciprocal = { .name = "ReciprocalBackward0", .backward = reciprocal_backward,
                              .describe = reciprocal_describe, .saves_tensors = 1 };

gb_status gb_reciprocal(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return gb_unary_apply(g, &gb_op_reciprocal, reciprocal_f, x, NULL, out);
}
