// relu.c: rectified linear unit.
//   forward   y = max(x, 0)
//   backward  dx += dy * [x > 0]   the gate passes the gradient or blocks it
// NOTE: relu'(0) is taken as 0, as in PyTorch (it tests the saved output).
#include "gb_ops.h"

#include <math.h>

static float relu_f(float x) { return x > 0.0f ? x : 0.0f; }

static void relu_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    const float *y = node->output->data, *dy = node->output->flow;
    float *dx = gb_flow(g, x);
    if (!dx) return;
    for (int i = 0; i < x->numel; i++) dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
}

static void relu_describe(const gb_node *node, gb_sb *sb, int locals) {
    char lx[96];
    gb_label(node->inputs[0], lx, sizeof lx);
    if (!locals) { gb_desc_saved_tensor(sb, "result", node->output); return; }
    gb_desc_local(sb, node, 0, "[%s > 0]", lx);
}

const gb_op_def gb_op_relu = { .name = "ReluBackward0", .backward = relu_backward,
                              .describe = relu_describe, .saves_tensors = 1 };

gb_status gb_relu(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return gb_unary_apply(g, &gb_op_relu, relu_f, x, NULL, out);
}
