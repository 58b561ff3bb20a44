// tanh.c: hyperbolic tangent.
//   forward   y = tanh x
//   backward  dx += dy * (1 - y²)   (written with the output, which is saved)
#include "gb_ops.h"

#include <math.h>

static float tanh_f(float x) { return tanhf(x); }

static void tanh_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    const float *y = node->output->data, *dy = node->output->flow;
    float *dx = gb_flow(g, x);
    if (!dx) return;
    for (int i = 0; i < x->numel; i++) dx[i] += dy[i] * (1.0f - y[i] * y[i]);
}

static void tanh_describe(const gb_node *node, gb_sb *sb, int locals) {
    char lx[96];
    gb_label(node->inputs[0], lx, sizeof lx);
    if (!locals) { gb_desc_saved_tensor(sb, "result", node->output); return; }
    gb_desc_local(sb, node, 0, "1 - tanh²(%s)", lx);
}

const gb_op_def gb_op_tanh = { .name = "TanhBackward0", .backward = tanh_backward,
                              .describe = tanh_describe, .saves_tensors = 1 };

gb_status gb_tanh(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return gb_unary_apply(g, &gb_op_tanh, tanh_f, x, NULL, out);
}
