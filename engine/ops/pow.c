// pow.c: powers, with a number or a tensor as exponent.
//   PowBackward0  z = x ** p (p a number)   dx += dz * p * x^(p-1)
//   PowBackward1  z = x ** y (y a tensor)   dx += dz * y * x^(y-1)
//                                           dy += dz * z * ln(x)
//   PowBackward2  z = c ** y (torch.pow(c, y) with c a number): the dy half
// NOTE: as in PyTorch, a zero exponent gives a zero gradient for x (not
// 0 * x^-1, which would be nan at x = 0), and ln(0) is skipped where y >= 0.
// `2 ** a` is PowBackward1 with the number wrapped as a constant tensor.
#include "gb_ops.h"

#include <math.h>

#include "../core/gb_broadcast.h"

// x^p the way PyTorch's CPU kernel computes common exponents (exactly).
static float pow_number(float x, double p) {
    if (p == 2) return x * x;
    if (p == 3) return x * x * x;
    if (p == 0.5) return sqrtf(x);
    if (p == -1) return 1.0f / x;
    if (p == -2) return 1.0f / (x * x);
    if (p == 1) return x;
    if (p == 0) return 1.0f;
    return powf(x, (float)p);
}

static void pow_scalar_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    double p = node->p.scalar;
    const float *dz = node->output->flow;
    float *dx = gb_flow(g, x);
    if (!dx) return;
    for (int i = 0; i < x->numel; i++)   // PyTorch's zero gradient for p = 0 is +0
        dx[i] += p == 0 ? 0.0f : dz[i] * ((float)p * pow_number(x->data[i], p - 1));
}

static void pow_scalar_describe(const gb_node *node, gb_sb *sb, int locals) {
    const gb_tensor *x = node->inputs[0];
    double p = node->p.scalar;
    if (!locals) {
        gb_desc_saved_scalar(sb, "exponent", p);
        gb_desc_saved_tensor(sb, "self", x);
        return;
    }
    char lx[96], pw[128], num[32];
    gb_label(x, lx, sizeof lx);
    gb_power_text(lx, p - 1, pw, sizeof pw);
    if (p == 0) gb_desc_local(sb, node, 0, "0");
    else if (p == 1) gb_desc_local(sb, node, 0, "1");
    else gb_desc_local(sb, node, 0, "%s·%s", gb_num_text(p, num, sizeof num), pw);
}

const gb_op_def gb_op_pow_scalar = { .name = "PowBackward0", .backward = pow_scalar_backward,
                                     .describe = pow_scalar_describe, .saves_tensors = 1 };

gb_status gb_pow_scalar(gb_graph *g, gb_tensor *x, double exponent, gb_tensor **out) {
    gb_tensor *z = gb_graph_tensor(g, x->ndim, x->shape);
    if (!z) return GB_ERR_NOMEM;
    for (int i = 0; i < x->numel; i++) z->data[i] = pow_number(x->data[i], exponent);
    gb_op_params p = { .scalar = exponent };
    gb_graph_record(g, &gb_op_pow_scalar, z, &x, 1, &p);
    *out = z;
    return GB_OK;
}

static float pow_f(float x, float y) { return powf(x, y); }

static void pow_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0], *y = node->inputs[1], *z = node->output;
    const float *dz = z->flow;
    float *dx = gb_needs_grad(x) ? gb_flow(g, x) : NULL;
    float *dy = gb_needs_grad(y) ? gb_flow(g, y) : NULL;
    gb_bcast bc;
    gb_bcast_init(&bc, x, y);
    int idx[GB_MAX_DIMS] = { 0 }, ox = 0, oy = 0;
    for (int i = 0; i < bc.numel; i++) {
        float xv = x->data[ox], yv = y->data[oy];
        if (dx) dx[ox] += yv == 0.0f ? 0.0f : dz[i] * (yv * powf(xv, yv - 1.0f));
        if (dy) dy[oy] += xv == 0.0f && yv >= 0.0f ? 0.0f : dz[i] * (z->data[i] * logf(xv));
        gb_bcast_next(&bc, idx, &ox, &oy);
    }
}

static void pow_describe(const gb_node *node, gb_sb *sb, int locals) {
    const gb_tensor *x = node->inputs[0], *y = node->inputs[1];
    if (!locals) {
        gb_desc_saved_tensor(sb, "exponent", y);
        gb_desc_saved_tensor(sb, "result", node->output);
        gb_desc_saved_tensor(sb, "self", x);
        return;
    }
    char lx[96], ly[96];
    gb_label(x, lx, sizeof lx);
    gb_label(y, ly, sizeof ly);
    gb_desc_local(sb, node, 0, "%s·%s^(%s-1)", ly, lx, ly);
    gb_desc_local(sb, node, 1, "%s^%s·ln %s", lx, ly, lx);
}

const gb_op_def gb_op_pow = { .name = "PowBackward1", .backward = pow_backward,
                              .describe = pow_describe, .saves_tensors = 1 };

gb_status gb_pow(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out) {
    return gb_binary_apply(g, &gb_op_pow, pow_f, x, y, NULL, out);
}

// torch.pow(2, a): the base is a number, so the node has one input (the
// exponent) and PyTorch names it PowBackward2. The maths is PowBackward1's.
static void pow_base_backward(gb_node *node, gb_graph *g) {
    gb_tensor *y = node->inputs[0], *z = node->output;
    float *dy = gb_flow(g, y);
    float c = (float)node->p.scalar;
    if (!dy) return;
    for (int i = 0; i < y->numel; i++)
        dy[i] += c == 0.0f && y->data[i] >= 0.0f ? 0.0f : z->flow[i] * (z->data[i] * logf(c));
}

static void pow_base_describe(const gb_node *node, gb_sb *sb, int locals) {
    char ly[96], num[32];
    if (!locals) {
        gb_desc_saved_scalar(sb, "self", node->p.scalar);
        gb_desc_saved_tensor(sb, "result", node->output);
        return;
    }
    gb_num_text(node->p.scalar, num, sizeof num);
    gb_desc_local(sb, node, 0, "%s^%s·ln %s", num, gb_label(node->inputs[0], ly, sizeof ly), num);
}

const gb_op_def gb_op_pow_base = { .name = "PowBackward2", .backward = pow_base_backward,
                                   .describe = pow_base_describe, .saves_tensors = 1 };

gb_status gb_pow_base(gb_graph *g, double base, gb_tensor *y, gb_tensor **out) {
    gb_tensor *z = gb_graph_tensor(g, y->ndim, y->shape);
    if (!z) return GB_ERR_NOMEM;
    for (int i = 0; i < y->numel; i++) z->data[i] = powf((float)base, y->data[i]);
    gb_op_params p = { .scalar = base };
    gb_graph_record(g, &gb_op_pow_base, z, &y, 1, &p);
    *out = z;
    return GB_OK;
}
