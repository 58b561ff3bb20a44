// sin.c: sine.
//   forward   y = sin x
//   backward  dx += dy * cos x
#include "gb_ops.h"

#include <math.h>

static float sin_f(float x) { return sinf(x); }

static void sin_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    const float *dy = node->output->flow;
    float *dx = gb_flow(g, x);
    if (!dx) return;
    for (int i = 0; i < x->numel; i++) dx[i] += dy[i] * cosf(x->data[i]);
}

static void sin_describe(const gb_node *node, gb_sb *sb, int locals) {
    char lx[96];
    gb_label(node->inputs[0], lx, sizeof lx);
    if (!locals) { gb_desc_saved_tensor(sb, "self", node->inputs[0]); return; }
    gb_desc_local(sb, node, 0, "cos(%s)", lx);
}

const gb_op_def gb_op_sin = { .name = "SinBackward0", .backward = sin_backward,
                              .describe = sin_describe, .saves_tensors = 1 };

gb_status gb_sin(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return gb_unary_apply(g, &gb_op_sin, sin_f, x, NULL, out);
}
