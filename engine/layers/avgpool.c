// avgpool.c: adaptive average pooling to 1×1, ResNet's head (MeanBackward1:
// PyTorch computes it as a mean over H and W).
//   forward   y[n,c] = (1/HW) Σ_{h,w} x[n,c,h,w]
//   backward  dx[n,c,h,w] += dy[n,c] / HW
#include "gb_layers.h"

#include "../kernels/pool2d.h"

static void avgpool_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0];
    float *dx = gb_flow(g, x);
    if (!dx) return;
    gb_f32_global_avgpool_backward(x->shape[0], x->shape[1], x->shape[2] * x->shape[3], node->output->flow, dx);
}

static void avgpool_describe(const gb_node *node, gb_sb *sb, int locals) {
    const gb_tensor *x = node->inputs[0];
    if (!locals) { gb_desc_saved_scalar(sb, "self_numel", x->numel); return; }
    gb_desc_local(sb, node, 0, "1/%d (for every element of the plane)", x->shape[2] * x->shape[3]);
}

const gb_op_def gb_op_adaptive_avgpool1 = { .name = "MeanBackward1", .backward = avgpool_backward,
                                            .describe = avgpool_describe, .saves_tensors = 1,
                                            .unread = GB_UNREAD_INPUT(0) | GB_UNREAD_OUTPUT };

gb_status gb_adaptive_avgpool1(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    if (x->ndim != 4) return gb_set_error(GB_ERR_SHAPE, "adaptive_avg_pool2d: expected a 4-D input, got %dD", x->ndim);
    int shape[4] = { x->shape[0], x->shape[1], 1, 1 };
    gb_tensor *y = gb_graph_tensor(g, 4, shape);
    if (!y) return GB_ERR_NOMEM;
    if (!gb_graph_measuring(g))
        gb_f32_global_avgpool_forward(x->shape[0], x->shape[1], x->shape[2] * x->shape[3], x->data, y->data);
    gb_graph_record(g, &gb_op_adaptive_avgpool1, y, &x, 1, NULL);
    *out = y;
    return GB_OK;
}
