// sub.c: z = x - y, and the reversed form z = c - x for a number c.
//   forward   z = x - y               backward  dx += dz,  dy -= dz
//   forward   z = c - x (RsubBackward1) backward  dx -= dz
// NOTE: Python's `2 - a` calls a.__rsub__(2), which PyTorch records as
// RsubBackward1 with a single input; `a - 2` is SubBackward0 with two.
#include "gb_ops.h"

#include "../core/gb_broadcast.h"

static float sub_f(float x, float y) { return x - y; }

static void sub_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0], *y = node->inputs[1];
    const float *dz = node->output->flow;
    float *dx = gb_needs_grad(x) ? gb_flow(g, x) : NULL;
    float *dy = gb_needs_grad(y) ? gb_flow(g, y) : NULL;
    gb_bcast bc;
    gb_bcast_init(&bc, x, y);
    int idx[GB_MAX_DIMS] = { 0 }, ox = 0, oy = 0;
    for (int i = 0; i < bc.numel; i++) {
        if (dx) dx[ox] += dz[i];
        if (dy) dy[oy] -= dz[i];
        gb_bcast_next(&bc, idx, &ox, &oy);
    }
}

static void sub_describe(const gb_node *node, gb_sb *sb, int locals) {
    if (!locals) { gb_desc_saved_scalar(sb, "alpha", 1); return; }
    gb_desc_local(sb, node, 0, "1");
    gb_desc_local(sb, node, 1, "-1");
}

const gb_op_def gb_op_sub = { .name = "SubBackward0", .backward = sub_backward,
                              .describe = sub_describe, .saves_tensors = 0 };

gb_status gb_sub(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out) {
    gb_op_params p = { .scalar = 1 };
    return gb_binary_apply(g, &gb_op_sub, sub_f, x, y, &p, out);
}

static void rsub_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    const float *dz = node->output->flow;
    float *dx = gb_flow(g, x);
    if (!dx) return;
    for (int i = 0; i < x->numel; i++) dx[i] -= dz[i];
}

static void rsub_describe(const gb_node *node, gb_sb *sb, int locals) {
    if (!locals) { gb_desc_saved_scalar(sb, "alpha", 1); return; }
    gb_desc_local(sb, node, 0, "-1");
}

const gb_op_def gb_op_rsub = { .name = "RsubBackward1", .backward = rsub_backward,
                               .describe = rsub_describe, .saves_tensors = 0 };

gb_status gb_rsub(gb_graph *g, gb_tensor *x, double other, gb_tensor **out) {
    gb_tensor *z = gb_graph_tensor(g, x->ndim, x->shape);
    if (!z) return GB_ERR_NOMEM;
    float c = (float)other;
    for (int i = 0; i < x->numel; i++) z->data[i] = c - x->data[i];
    gb_op_params p = { .scalar = other };
    gb_graph_record(g, &gb_op_rsub, z, &x, 1, &p);
    *out = z;
    return GB_OK;
}
