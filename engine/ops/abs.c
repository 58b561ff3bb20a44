// abs.c: absolute value.
//   forward   y = |x|
//   backward  dx += dy * sign(x)
// NOTE: sign(0) = 0, so the gradient at the kink is 0, as in PyTorch.
#include "gb_ops.h"

#include <math.h>

static float abs_f(float x) { return fabsf(x); }

static void abs_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    const float *dy = node->output->flow;
    float *dx = gb_flow(g, x);
    if (!dx) return;
    for (int i = 0; i < x->numel; i++) dx[i] += dy[i] * (float)((x->data[i] > 0) - (x->data[i] < 0));
}

static void abs_describe(const gb_node *node, gb_sb *sb, int locals) {
    char lx[96];
    gb_label(node->inputs[0], lx, sizeof lx);
    if (!locals) { gb_desc_saved_tensor(sb, "self", node->inputs[0]); return; }
    gb_desc_local(sb, node, 0, "sign(%s)", lx);
}

const gb_op_def gb_op_abs = { .name = "AbsBackward0", .backward = abs_backward,
                              .describe = abs_describe, .saves_tensors = 1 };

gb_status gb_abs(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return gb_unary_apply(g, &gb_op_abs, abs_f, x, NULL, out);
}
