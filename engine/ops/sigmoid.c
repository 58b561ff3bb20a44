// sigmoid.c: logistic function.
//   forward   y = σ(x) = 1 / (1 + e⁻ˣ)
//   backward  dx += dy * y * (1 - y)
#include "gb_ops.h"

#include <math.h>

static float sigmoid_f(float x) { return 1.0f / (1.0f + expf(-x)); }

static void sigmoid_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    const float *y = node->output->data, *dy = node->output->flow;
    float *dx = gb_flow(g, x);
    if (!dx) return;
    for (int i = 0; i < x->numel; i++) dx[i] += dy[i] * (y[i] * (1.0f - y[i]));
}

static void sigmoid_describe(const gb_node *node, gb_sb *sb, int locals) {
    char lx[96];
    gb_label(node->inputs[0], lx, sizeof lx);
    if (!locals) { gb_desc_saved_tensor(sb, "result", node->output); return; }
    gb_desc_local(sb, node, 0, "σ(%s)·(1 - σ(%s))", lx, lx);
}

const gb_op_def gb_op_sigmoid = { .name = "SigmoidBackward0", .backward = sigmoid_backward,
                              .describe = sigmoid_describe, .saves_tensors = 1 };

gb_status gb_sigmoid(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return gb_unary_apply(g, &gb_op_sigmoid, sigmoid_f, x, NULL, out);
}
