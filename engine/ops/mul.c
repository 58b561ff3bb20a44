// mul.c: z = x * y (elementwise, with broadcasting).
//   forward   z = x * y
//   backward  dx += dz * y,  dy += dz * x     (product rule)
#include "gb_ops.h"

#include "../core/gb_broadcast.h"

static float mul_f(float x, float y) { return x * y; }

static void mul_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0], *y = node->inputs[1];
    const float *dz = node->output->flow;
    float *dx = gb_needs_grad(x) ? gb_flow(g, x) : NULL;
    float *dy = gb_needs_grad(y) ? gb_flow(g, y) : NULL;
    gb_bcast bc;
    gb_bcast_init(&bc, x, y);
    int idx[GB_MAX_DIMS] = { 0 }, ox = 0, oy = 0;
    for (int i = 0; i < bc.numel; i++) {
        if (dx) dx[ox] += dz[i] * y->data[oy];
        if (dy) dy[oy] += dz[i] * x->data[ox];
        gb_bcast_next(&bc, idx, &ox, &oy);
    }
}

static void mul_describe(const gb_node *node, gb_sb *sb, int locals) {
    const gb_tensor *x = node->inputs[0], *y = node->inputs[1];
    char lx[96], ly[96];
    if (!locals) {
        // PyTorch saves `other` to differentiate for self, and `self` for other.
        if (gb_needs_grad(x)) gb_desc_saved_tensor(sb, "other", y);
        if (gb_needs_grad(y)) gb_desc_saved_tensor(sb, "self", x);
        return;
    }
    gb_desc_local(sb, node, 0, "%s", gb_label(y, ly, sizeof ly));
    gb_desc_local(sb, node, 1, "%s", gb_label(x, lx, sizeof lx));
}

const gb_op_def gb_op_mul = { .name = "MulBackward0", .backward = mul_backward,
                              .describe = mul_describe, .saves_tensors = 1 };

gb_status gb_mul(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out) {
    return gb_binary_apply(g, &gb_op_mul, mul_f, x, y, NULL, out);
}
