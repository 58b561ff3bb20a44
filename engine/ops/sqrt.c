// sqrt.c: square root.
//   forward   y = √x
//   backward  dx += dy / (2y)     (d√x/dx = 1/(2√x): reuse the output)
#include "gb_ops.h"

#include <math.h>

static float sqrt_f(float x) { return sqrtf(x); }

static void sqrt_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    const float *y = node->output->data, *dy = node->output->flow;
    float *dx = gb_flow(g, x);
    if (!dx) return;
    for (int i = 0; i < x->numel; i++) dx[i] += dy[i] / (2.0f * y[i]);
}

static void sqrt_describe(const gb_node *node, gb_sb *sb, int locals) {
    char lx[96];
    gb_label(node->inputs[0], lx, sizeof lx);
    if (!locals) { gb_desc_saved_tensor(sb, "result", node->output); return; }
    gb_desc_local(sb, node, 0, "1/(2·sqrt(%s))", lx);
}

const gb_op_def gb_op_sqrt = { .name = "SqrtBackward0", .backward = sqrt_backward,
                              .describe = sqrt_describe, .saves_tensors = 1 };

gb_status gb_sqrt(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return gb_unary_apply(g, &gb_op_sqrt, sqrt_f, x, NULL, out);
}
