// cos.c: cosine.
//   forward   y = cos x
//   backward  dx += dy * (-sin x)
#include "gb_ops.h"

#include <math.h>

static float cos_f(float x) { return cosf(x); }

static void cos_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    const float *dy = node->output->flow;
    float *dx = gb_flow(g, x);
    if (!dx) return;
    for (int i = 0; i < x->numel; i++) dx[i] += dy[i] * -sinf(x->data[i]);
}

static void cos_describe(const gb_node *node, gb_sb *sb, int locals) {
    char lx[96];
    gb_label(node->inputs[0], lx, sizeof lx);
    if (!locals) { gb_desc_saved_tensor(sb, "self", node->inputs[0]); return; }
    gb_desc_local(sb, node, 0, "-sin(%s)", lx);
}

const gb_op_def gb_op_cos = { .name = "CosBackward0", .backward = cos_backward,
                              .describe = cos_describe, .saves_tensors = 1 };

gb_status gb_cos(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return gb_unary_apply(g, &gb_op_cos, cos_f, x, NULL, out);
}
