// exp.c: exponential.
//   forward   y = eˣ
//   backward  dx += dy * y        (eˣ is its own derivative: reuse the output)
#include "gb_ops.h"

#include <math.h>

static float exp_f(float x) { return expf(x); }

static void exp_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    const float *y = node->output->data, *dy = node->output->flow;
    float *dx = gb_flow(g, x);
    if (!dx) return;
    for (int i = 0; i < x->numel; i++) dx[i] += dy[i] * y[i];
}

static void exp_describe(const gb_node *node, gb_sb *sb, int locals) {
    char lx[96];
    gb_label(node->inputs[0], lx, sizeof lx);
    if (!locals) { gb_desc_saved_tensor(sb, "result", node->output); return; }
    gb_desc_local(sb, node, 0, "exp(%s)", lx);
}

const gb_op_def gb_op_exp = { .name = "ExpBackward0", .backward = exp_backward,
                              .describe = exp_describe, .saves_tensors = 1 };

gb_status gb_exp(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return gb_unary_apply(g, &gb_op_exp, exp_f, x, NULL, out);
}
