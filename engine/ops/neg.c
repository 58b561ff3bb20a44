// neg.c: unary minus.
//   forward   y = -x
//   backward  dx -= dy
#include "gb_ops.h"

#include <math.h>

static float neg_f(float x) { return -x; }

static void neg_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    const float *dy = node->output->flow;
    float *dx = gb_flow(g, x);
    if (!dx) return;
    for (int i = 0; i < x->numel; i++) dx[i] -= dy[i];
}

static void neg_describe(const gb_node *node, gb_sb *sb, int locals) {
    char lx[96];
    gb_label(node->inputs[0], lx, sizeof lx);
    if (!locals) {  return; }
    gb_desc_local(sb, node, 0, "-1");
}

const gb_op_def gb_op_neg = { .name = "NegBackward0", .backward = neg_backward,
                              .describe = neg_describe, .saves_tensors = 0 };

gb_status gb_neg(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return gb_unary_apply(g, &gb_op_neg, neg_f, x, NULL, out);
}
