// add.c: z = x + y (with broadcasting).
//   forward   z = x + y
//   backward  dx += dz,  dy += dz      (summed over broadcast axes)
#include "gb_ops.h"

#include "../core/gb_broadcast.h"
#include "../kernels/kernels.h"
#include "../threads/gb_pool.h"

#include <string.h>

static float add_f(float x, float y) { return x + y; }

// Same shapes (the residual connection): plain loops, cut over the thread
// pool when large (gb_parallel_range).
typedef struct add_job { const float *x, *y, *dz; float *z, *dx, *dy; int store_dx, store_dy; } add_job;

static void add_forward_range(void *ctx, size_t lo, size_t hi) {
    const add_job *j = ctx;
    for (size_t i = lo; i < hi; i++) j->z[i] = j->x[i] + j->y[i];
}

// A new flow takes dz as it is (gb_flow_for_store: the same bits as -0 + dz).
static void pass_gradient(float *d, int store, const float *dz, size_t lo, size_t hi) {
    if (!d) return;
    if (store) memcpy(d + lo, dz + lo, (hi - lo) * sizeof(float));
    else for (size_t i = lo; i < hi; i++) d[i] += dz[i];
}

static void add_backward_range(void *ctx, size_t lo, size_t hi) {
    const add_job *j = ctx;
    pass_gradient(j->dx, j->store_dx, j->dz, lo, hi);
    pass_gradient(j->dy, j->store_dy, j->dz, lo, hi);
}

static void add_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0], *y = node->inputs[1];
    const float *dz = node->output->flow;
    if (gb_shape_equal(x, y)) {   // the residual connection: no broadcasting
        // For x + x the second call finds the flow the first made: dx stores, dy adds.
        add_job j = { .dz = dz };
        if (gb_needs_grad(x)) j.dx = gb_flow_for_store(g, x, &j.store_dx);
        if (gb_needs_grad(y)) j.dy = gb_flow_for_store(g, y, &j.store_dy);
        if ((gb_needs_grad(x) && !j.dx) || (gb_needs_grad(y) && !j.dy)) return;   // out of memory
        gb_parallel_range((size_t)x->numel, add_backward_range, &j);
        return;
    }
    float *dx = gb_needs_grad(x) ? gb_flow(g, x) : NULL;
    float *dy = gb_needs_grad(y) ? gb_flow(g, y) : NULL;
    gb_bcast bc;
    gb_bcast_init(&bc, x, y);   // cannot fail: the forward pass succeeded
    int idx[GB_MAX_DIMS] = { 0 }, ox = 0, oy = 0;
    for (int i = 0; i < bc.numel; i++) {
        if (dx) dx[ox] += dz[i];
        if (dy) dy[oy] += dz[i];
        gb_bcast_next(&bc, idx, &ox, &oy);
    }
}

static void add_describe(const gb_node *node, gb_sb *sb, int locals) {
    if (!locals) { gb_desc_saved_scalar(sb, "alpha", 1); return; }
    gb_desc_local(sb, node, 0, "1");
    gb_desc_local(sb, node, 1, "1");
}

const gb_op_def gb_op_add = { .name = "AddBackward0", .backward = add_backward,
                              .describe = add_describe, .saves_tensors = 0,
                              .unread = GB_UNREAD_INPUT(0) | GB_UNREAD_INPUT(1) | GB_UNREAD_OUTPUT };

gb_status gb_add(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out) {
    gb_op_params p = { .scalar = 1 };
    if (!gb_shape_equal(x, y)) return gb_binary_apply(g, &gb_op_add, add_f, x, y, &p, out);
    gb_tensor *z = gb_graph_tensor_reuse(g, x->ndim, x->shape, x);   // same shapes: a plain loop
    if (!z) return GB_ERR_NOMEM;
    add_job j = { .x = x->data, .y = y->data, .z = z->data };
    if (!gb_graph_measuring(g)) gb_parallel_range((size_t)x->numel, add_forward_range, &j);
    gb_tensor *inputs[2] = { x, y };
    gb_graph_record(g, &gb_op_add, z, inputs, 2, &p);
    *out = z;
    return GB_OK;
}

// z = relu(x + y) block by block, each block's ReLU while it is in L1: the
// ReLU op's kernel (relu.c), so the bits of gb_add then gb_relu_.
#define ADD_RELU_BLOCK 1024
static void add_relu_forward_range(void *ctx, size_t lo, size_t hi) {
    const add_job *j = ctx;
    for (size_t b = lo; b < hi; b += ADD_RELU_BLOCK) {
        const size_t e = hi - b < ADD_RELU_BLOCK ? hi : b + ADD_RELU_BLOCK;
        add_forward_range(ctx, b, e);
        gb_relu_forward_kernel(e - b, j->z + b, j->z + b);
    }
}

gb_status gb_add_relu_nograd(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out) {
    GB_ASSERT(gb_shape_equal(x, y), "add + relu: shapes differ");
    GB_ASSERT(!g->grad_enabled || !(gb_needs_grad(x) || gb_needs_grad(y)), "add + relu: a gradient would go through");
    gb_tensor *z = gb_graph_tensor_reuse(g, x->ndim, x->shape, x);
    if (!z) return GB_ERR_NOMEM;
    add_job j = { .x = x->data, .y = y->data, .z = z->data };
    if (!gb_graph_measuring(g)) gb_parallel_range((size_t)x->numel, add_relu_forward_range, &j);
    gb_tensor *inputs[2] = { x, y };
    gb_graph_record(g, &gb_op_add, z, inputs, 2, NULL);   // no node: the plan notes the reads
    *out = z;
    return GB_OK;
}
