// log.c: natural logarithm.
//   forward   y = ln x
//   backward  dx += dy / x
#include "gb_ops.h"

#include <math.h>

static float log_f(float x) { return logf(x); }

static void log_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    const float *dy = node->output->flow;
    float *dx = gb_flow(g, x);
    if (!dx) return;
    for (int i = 0; i < x->numel; i++) dx[i] += dy[i] / x->data[i];
}

static void log_describe(const gb_node *node, gb_sb *sb, int locals) {
    char lx[96];
    gb_label(node->inputs[0], lx, sizeof lx);
    if (!locals) { gb_desc_saved_tensor(sb, "self", node->inputs[0]); return; }
    gb_desc_local(sb, node, 0, "1/%s", lx);
}

const gb_op_def gb_op_log = { .name = "LogBackward0", .backward = log_backward,
                              .describe = log_describe, .saves_tensors = 1 };

gb_status gb_log(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return gb_unary_apply(g, &gb_op_log, log_f, x, NULL, out);
}
