// relu.c: rectified linear unit.
//   forward   y = max(x, 0)
//   backward  dx += dy * [y > 0]   the gate passes the gradient or blocks it
// NOTE: relu'(0) is taken as 0 and NaN passes through, as in PyTorch (which
// tests the saved output). Here the forward keeps the gate itself, one bit
// per element (1/32 of y): y's memory is then free once the forward's
// readers are done (the stem's ReLU, before maxpool: 49 MB at batch 16),
// and backward reads 32x fewer bytes. Guarded by tests/kernels
// (test_kernels.c, the twins) and tests/native/test_plan.c (y not kept).
// The loops are engine/kernels/f32-relu's: the SIMD twin where the build
// has vectors (gb_relu_*_kernel, kernels.h); the lesson's build links no
// other kernel.
#include "gb_ops.h"

#include "../kernels/kernels.h"
#include "../threads/gb_pool.h"

// Large tensors are cut over the thread pool (gb_parallel_range: parts
// start on multiples of 16, a gate word each).
typedef struct relu_job { const float *x, *dy; float *y, *dx; uint16_t *gate; int store; } relu_job;

static void relu_forward_range(void *ctx, size_t lo, size_t hi) {
    const relu_job *j = ctx;
    if (j->gate) gb_relu_gate_kernel(hi - lo, j->x + lo, j->y + lo, j->gate + lo / 16);
    else gb_relu_forward_kernel(hi - lo, j->x + lo, j->y + lo);
}

static void relu_backward_range(void *ctx, size_t lo, size_t hi) {
    const relu_job *j = ctx;
    gb_relu_backward_kernel(hi - lo, j->gate + lo / 16, j->dy + lo, j->dx + lo, j->store);
}

static void relu_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    int store;   // a new flow is stored, not added to (gb_flow_for_store)
    float *dx = gb_flow_for_store(g, x, &store);
    if (!dx) return;
    relu_job j = { .gate = node->p.saved, .dy = node->output->flow, .dx = dx, .store = store };
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
                               .unread = GB_UNREAD_INPUT(0) | GB_UNREAD_OUTPUT,   // the gate's bits suffice
                               .flow_in_place = 1 };

// The gate lives in the graph's arena until the reset, as maxpool's argmax.
static gb_status relu(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out) {
    if (!y) return GB_ERR_NOMEM;
    const int need_grad = g->grad_enabled && gb_needs_grad(x);
    uint16_t *gate = need_grad ? gb_arena_alloc_uninit(&g->arena, ((size_t)x->numel + 15) / 16 * sizeof *gate) : NULL;
    if (need_grad && !gate) return gb_set_error(GB_ERR_NOMEM, "relu: out of memory");
    relu_job j = { .x = x->data, .y = y->data, .gate = gate };
    if (!gb_graph_measuring(g)) gb_parallel_range((size_t)x->numel, relu_forward_range, &j);
    gb_op_params p = { .saved = gate };
    gb_graph_record(g, &gb_op_relu, y, &x, 1, &p);
    *out = y;
    return GB_OK;
}

gb_status gb_relu(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return relu(g, x, gb_graph_tensor(g, x->ndim, x->shape), out);
}

// As torch's inplace=True: y is a new tensor (its own grad_fn, ReluBackward0)
// which, in a planned step, takes x's memory when nothing reads x after
// (backward never does: it reads the gate). The same numbers either way.
gb_status gb_relu_(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    return relu(g, x, gb_graph_tensor_reuse(g, x->ndim, x->shape, x), out);
}
