// maxpool2d.c: max pooling (MaxPool2DWithIndicesBackward0).
//   forward   y[n,c,i,j] = max of x over the k×k window at (i·s − p, j·s − p)
//             (padding counts as −∞); the winner's position is kept
//   backward  dx[winner] += dy: only the maximum influenced the output
// Loops in engine/kernels/pool2d.c.
#include "gb_layers.h"

#include "../kernels/pool2d.h"

static void maxpool_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    float *dx = gb_flow(g, x);
    if (!dx) return;
    gb_pool2d_shape s = gb_pool2d_shape_make(x->shape[0], x->shape[1], x->shape[2], x->shape[3],
                                             node->p.kernel, node->p.stride, node->p.padding);
    gb_f32_maxpool2d_backward(&s, node->p.saved, node->output->flow, dx);
}

static void maxpool_describe(const gb_node *node, gb_sb *sb, int locals) {
    if (!locals) {
        gb_desc_saved_scalar(sb, "kernel_size", node->p.kernel);
        gb_desc_saved_scalar(sb, "stride", node->p.stride);
        gb_desc_saved_scalar(sb, "padding", node->p.padding);
        return;
    }
    gb_desc_local(sb, node, 0, "1 at each window's maximum, 0 elsewhere");
}

const gb_op_def gb_op_maxpool2d = { .name = "MaxPool2DWithIndicesBackward0", .backward = maxpool_backward,
                                    .describe = maxpool_describe, .saves_tensors = 1,
                                    .unread = GB_UNREAD_INPUT(0) | GB_UNREAD_OUTPUT };   // argmax suffices

gb_status gb_maxpool2d(gb_graph *g, gb_tensor *x, int k, int stride, int padding, gb_tensor **out) {
    if (x->ndim != 4) return gb_set_error(GB_ERR_SHAPE, "max_pool2d: expected a 4-D input, got %dD", x->ndim);
    if (k < 1 || stride < 1 || padding < 0 || padding > k / 2)
        return gb_set_error(GB_ERR_ARG, "pad should be at most half of kernel size, but got pad=%d and kernel_size=%d",
                            padding, k);
    gb_pool2d_shape s = gb_pool2d_shape_make(x->shape[0], x->shape[1], x->shape[2], x->shape[3], k, stride, padding);
    if (s.OH < 1 || s.OW < 1) return gb_set_error(GB_ERR_SHAPE, "max_pool2d: output size is too small");
    int shape[4] = { s.N, s.C, s.OH, s.OW };
    int need_grad = g->grad_enabled && gb_needs_grad(x);
    if (need_grad && k > GB_MAXPOOL_MAX_K)   // the argmax is a place in the window, one byte
        return gb_set_error(GB_ERR_ARG, "max_pool2d: a kernel_size up to %d can be trained here, got %d",
                            GB_MAXPOOL_MAX_K, k);
    gb_tensor *y = gb_graph_tensor(g, 4, shape);
    uint8_t *argmax = need_grad ? gb_arena_alloc_uninit(&g->arena, (size_t)y->numel) : NULL;
    if (!y || (need_grad && !argmax)) return gb_set_error(GB_ERR_NOMEM, "max_pool2d: out of memory");
    if (!gb_graph_measuring(g)) gb_f32_maxpool2d_forward(&s, x->data, y->data, argmax);
    gb_op_params p = { .kernel = k, .stride = stride, .padding = padding, .saved = argmax };
    gb_graph_record(g, &gb_op_maxpool2d, y, &x, 1, &p);
    *out = y;
    return GB_OK;
}
