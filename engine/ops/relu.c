// relu.c: rectified linear unit.
//   forward   y = max(x, 0)
//   backward  dx += dy * [y > 0]   the gate passes the gradient or blocks it
// NOTE: relu'(0) is taken as 0 and NaN passes through, as in PyTorch (which
// also tests the saved output). The loops are engine/kernels/f32-relu's: the
// SIMD twin where the build has vectors (GB_KERNELS_SIMD, kernels.h), named
// here so the lesson's build needs no other kernel.
#include "gb_ops.h"

#include "../kernels/kernels.h"
#include "../threads/gb_pool.h"

#ifdef GB_KERNELS_SIMD
#define relu_forward_kernel gb_f32_relu__wasmsimd
#define relu_backward_kernel gb_f32_relu_backward__wasmsimd
#else
#define relu_forward_kernel gb_f32_relu__scalar
#define relu_backward_kernel gb_f32_relu_backward__scalar
#endif

// Large tensors are cut over the thread pool (gb_parallel_range).
typedef struct relu_job { const float *x, *dy; float *y, *dx; int store; } relu_job;

static void relu_forward_range(void *ctx, size_t lo, size_t hi) {
    const relu_job *j = ctx;
    relu_forward_kernel(hi - lo, j->x + lo, j->y + lo);
}

static void relu_backward_range(void *ctx, size_t lo, size_t hi) {
    const relu_job *j = ctx;
    relu_backward_kernel(hi - lo, j->x + lo, j->dy + lo, j->dx + lo, j->store);
}

static void relu_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    int store;   // a new flow is stored, not added to (gb_flow_for_store)
    float *dx = gb_flow_for_store(g, x, &store);
    if (!dx) return;
    // y > 0 exactly where x > 0, so the output serves as the kernel's gate.
    relu_job j = { .x = node->output->data, .dy = node->output->flow, .dx = dx, .store = store };
    gb_parallel_range((size_t)x->numel, relu_backward_range, &j);
}

static void relu_describe(const gb_node *node, gb_sb *sb, int locals) {
    char lx[96];
    gb_label(node->inputs[0], lx, sizeof lx);
    if (!locals) { gb_desc_saved_tensor(sb, "result", node->output); return; }
    gb_desc_local(sb, node, 0, "[%s > 0]", lx);
}

const gb_op_def gb_op_relu = { .name = "ReluBackward0", .backward = relu_backward,
                               .describe = relu_describe, .saves_tensors = 1,
                               .unread = GB_UNREAD_INPUT(0),   // the output is the gate
                               .flow_in_place = 1 };

static gb_status relu(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out) {
    if (!y) return GB_ERR_NOMEM;
    relu_job j = { .x = x->data, .y = y->data };
    if (!gb_graph_measuring(g)) gb_parallel_range((size_t)x->numel, relu_forward_range, &j);
    gb_graph_record(g, &gb_op_relu, y, &x, 1, NULL);
    *out = y;
    return GB_OK;
}

gb_status gb_relu(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return relu(g, x, gb_graph_tensor(g, x->ndim, x->shape), out);
}

// As torch's inplace=True: y is a new tensor (its own grad_fn, ReluBackward0)
// which, in a planned step, takes x's memory when nothing reads x after
// (backward never does: the gate is y). The same numbers either way.
gb_status gb_relu_(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return relu(g, x, gb_graph_tensor_reuse(g, x->ndim, x->shape, x), out);
}
