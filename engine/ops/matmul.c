// matmul.c: matrix products, and `@` choosing among them as torch.matmul does.
//   MmBackward0   Z = X·Y, X (n,k), Y (k,m)   dX += dZ·Yᵀ,  dY += Xᵀ·dZ
//   MvBackward0   z = X·v, X (n,k), v (k)     dX += dz ⊗ v, dv += Xᵀ·dz
//   DotBackward0  z = x·y, x (k), y (k)       dx += dz·y,   dy += dz·x
// `x @ W` with x 1-D is unsqueeze(x, 0) @ W squeezed back, three nodes as in
// PyTorch. Operands of more than 2 dimensions are not supported here.
// Sums run in float, in index order, as PyTorch's CPU BLAS does for these
// small shapes (so even the last printed digit matches). The fast GEMM
// kernels for convolutions live in engine/kernels.
#include "gb_ops.h"

#include <stdio.h>

static void mm_backward(gb_node *node, gb_graph *g) {
    gb_tensor *X = node->inputs[0], *Y = node->inputs[1];
    int n = X->shape[0], k = X->shape[1], m = Y->shape[1];
    const float *dZ = node->output->flow;
    float *dX = gb_needs_grad(X) ? gb_flow(g, X) : NULL;
    float *dY = gb_needs_grad(Y) ? gb_flow(g, Y) : NULL;
    if (dX)   // dX[i,p] += Σ_j dZ[i,j] Y[p,j]
        for (int i = 0; i < n; i++)
            for (int p = 0; p < k; p++) {
                float acc = 0;
                for (int j = 0; j < m; j++) acc += dZ[i * m + j] * Y->data[p * m + j];
                dX[i * k + p] += acc;
            }
    if (dY)   // dY[p,j] += Σ_i X[i,p] dZ[i,j]
        for (int p = 0; p < k; p++)
            for (int j = 0; j < m; j++) {
                float acc = 0;
                for (int i = 0; i < n; i++) acc += X->data[i * k + p] * dZ[i * m + j];
                dY[p * m + j] += acc;
            }
}

static void mm_describe(const gb_node *node, gb_sb *sb, int locals) {
    const gb_tensor *X = node->inputs[0], *Y = node->inputs[1];
    char lx[96], ly[96];
    if (!locals) {
        if (gb_needs_grad(X)) gb_desc_saved_tensor(sb, "mat2", Y);
        if (gb_needs_grad(Y)) gb_desc_saved_tensor(sb, "self", X);
        return;
    }
    gb_label(X, lx, sizeof lx);
    gb_label(Y, ly, sizeof ly);
    gb_desc_local(sb, node, 0, "dZ·%sᵀ", ly);
    gb_desc_local(sb, node, 1, "%sᵀ·dZ", lx);
}

const gb_op_def gb_op_mm = { .name = "MmBackward0", .backward = mm_backward,
                             .describe = mm_describe, .saves_tensors = 1 };

gb_status gb_mm(gb_graph *g, gb_tensor *X, gb_tensor *Y, gb_tensor **out) {
    if (X->ndim != 2) return gb_set_error(GB_ERR_SHAPE, "self must be a matrix");
    if (Y->ndim != 2) return gb_set_error(GB_ERR_SHAPE, "mat2 must be a matrix");
    int n = X->shape[0], k = X->shape[1], m = Y->shape[1];
    if (Y->shape[0] != k)
        return gb_set_error(GB_ERR_SHAPE, "mat1 and mat2 shapes cannot be multiplied (%dx%d and %dx%d)",
                            n, k, Y->shape[0], m);
    int shape[2] = { n, m };
    gb_tensor *Z = gb_graph_tensor(g, 2, shape);
    if (!Z) return GB_ERR_NOMEM;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            float acc = 0;
            for (int p = 0; p < k; p++) acc += X->data[i * k + p] * Y->data[p * m + j];
            Z->data[i * m + j] = acc;
        }
    gb_tensor *inputs[2] = { X, Y };
    gb_graph_record(g, &gb_op_mm, Z, inputs, 2, NULL);
    *out = Z;
    return GB_OK;
}

static void mv_backward(gb_node *node, gb_graph *g) {
    gb_tensor *X = node->inputs[0], *v = node->inputs[1];
    int n = X->shape[0], k = X->shape[1];
    const float *dz = node->output->flow;
    float *dX = gb_needs_grad(X) ? gb_flow(g, X) : NULL;
    float *dv = gb_needs_grad(v) ? gb_flow(g, v) : NULL;
    if (dX)   // outer product
        for (int i = 0; i < n; i++)
            for (int p = 0; p < k; p++) dX[i * k + p] += dz[i] * v->data[p];
    if (dv)
        for (int p = 0; p < k; p++) {
            float acc = 0;
            for (int i = 0; i < n; i++) acc += X->data[i * k + p] * dz[i];
            dv[p] += acc;
        }
}

static void mv_describe(const gb_node *node, gb_sb *sb, int locals) {
    const gb_tensor *X = node->inputs[0], *v = node->inputs[1];
    char lx[96], lv[96];
    if (!locals) {
        if (gb_needs_grad(v)) gb_desc_saved_tensor(sb, "self", X);
        if (gb_needs_grad(X)) gb_desc_saved_tensor(sb, "vec", v);
        return;
    }
    gb_label(X, lx, sizeof lx);
    gb_label(v, lv, sizeof lv);
    gb_desc_local(sb, node, 0, "dz ⊗ %s", lv);
    gb_desc_local(sb, node, 1, "%sᵀ·dz", lx);
}

const gb_op_def gb_op_mv = { .name = "MvBackward0", .backward = mv_backward,
                             .describe = mv_describe, .saves_tensors = 1 };

gb_status gb_mv(gb_graph *g, gb_tensor *X, gb_tensor *v, gb_tensor **out) {
    if (X->ndim != 2 || v->ndim != 1)
        return gb_set_error(GB_ERR_SHAPE, "vector + matrix @ vector expected, got 1, %d, %d", X->ndim, v->ndim);
    int n = X->shape[0], k = X->shape[1];
    if (v->shape[0] != k)
        return gb_set_error(GB_ERR_SHAPE, "size mismatch, got %d, %dx%d,%d", n, n, k, v->shape[0]);
    gb_tensor *z = gb_graph_tensor(g, 1, &n);
    if (!z) return GB_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        float acc = 0;
        for (int p = 0; p < k; p++) acc += X->data[i * k + p] * v->data[p];
        z->data[i] = acc;
    }
    gb_tensor *inputs[2] = { X, v };
    gb_graph_record(g, &gb_op_mv, z, inputs, 2, NULL);
    *out = z;
    return GB_OK;
}

static void dot_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0], *y = node->inputs[1];
    float dz = node->output->flow[0];
    float *dx = gb_needs_grad(x) ? gb_flow(g, x) : NULL;
    float *dy = gb_needs_grad(y) ? gb_flow(g, y) : NULL;
    for (int i = 0; i < x->numel; i++) {
        if (dx) dx[i] += dz * y->data[i];
        if (dy) dy[i] += dz * x->data[i];
    }
}

static void dot_describe(const gb_node *node, gb_sb *sb, int locals) {
    const gb_tensor *x = node->inputs[0], *y = node->inputs[1];
    char lx[96], ly[96];
    if (!locals) {
        if (gb_needs_grad(y)) gb_desc_saved_tensor(sb, "self", x);
        if (gb_needs_grad(x)) gb_desc_saved_tensor(sb, "tensor", y);
        return;
    }
    gb_desc_local(sb, node, 0, "%s", gb_label(y, ly, sizeof ly));
    gb_desc_local(sb, node, 1, "%s", gb_label(x, lx, sizeof lx));
}

const gb_op_def gb_op_dot = { .name = "DotBackward0", .backward = dot_backward,
                              .describe = dot_describe, .saves_tensors = 1 };

gb_status gb_dot(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out) {
    if (x->ndim != 1 || y->ndim != 1)
        return gb_set_error(GB_ERR_SHAPE, "1D tensors expected, but got %dD and %dD tensors", x->ndim, y->ndim);
    if (x->shape[0] != y->shape[0])
        return gb_set_error(GB_ERR_SHAPE,
                            "inconsistent tensor size, expected tensor [%d] and src [%d] to have the same "
                            "number of elements, but got %d and %d elements respectively",
                            x->shape[0], y->shape[0], x->shape[0], y->shape[0]);
    gb_tensor *z = gb_graph_tensor(g, 0, NULL);
    if (!z) return GB_ERR_NOMEM;
    float acc = 0;
    for (int i = 0; i < x->numel; i++) acc += x->data[i] * y->data[i];
    z->data[0] = acc;
    gb_tensor *inputs[2] = { x, y };
    gb_graph_record(g, &gb_op_dot, z, inputs, 2, NULL);
    *out = z;
    return GB_OK;
}

gb_status gb_matmul(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out) {
    if (x->ndim == 0 || y->ndim == 0)
        return gb_set_error(GB_ERR_SHAPE,
                            "both arguments to matmul need to be at least 1D, but they are %dD and %dD",
                            x->ndim, y->ndim);
    if (x->ndim > 2 || y->ndim > 2)
        return gb_set_error(GB_ERR_SHAPE,
                            "matmul of %dD and %dD tensors is not supported here (only 1-D and 2-D operands)",
                            x->ndim, y->ndim);
    if (x->ndim == 1 && y->ndim == 1) return gb_dot(g, x, y, out);
    if (x->ndim == 2 && y->ndim == 1) return gb_mv(g, x, y, out);
    if (x->ndim == 2) return gb_mm(g, x, y, out);
    // (k) @ (k, m): PyTorch makes x a (1, k) matrix and squeezes the result.
    gb_tensor *x2, *z2;
    GB_TRY(gb_unsqueeze(g, x, 0, &x2));
    GB_TRY(gb_mm(g, x2, y, &z2));
    return gb_squeeze_dim(g, z2, 0, out);
}
