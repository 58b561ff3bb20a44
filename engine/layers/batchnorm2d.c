// batchnorm2d.c: batch normalisation per channel (NativeBatchNormBackward0).
//   forward   x̂ = (x − μ) / sqrt(σ² + eps),   y = γ·x̂ + β
//             training: μ, σ² over the batch (N·H·W values, biased σ²), and
//               running_mean ← (1−m)·running_mean + m·μ
//               running_var  ← (1−m)·running_var  + m·σ²·n/(n−1)   (unbiased)
//             eval: μ, σ² are the running statistics (constants)
//   backward  dβ = Σ dy,  dγ = Σ dy·x̂,
//             training: dx = γ/(n·sqrt(σ²+eps)) · (n·dy − Σdy − x̂·Σ dy·x̂)
//               (μ and σ² depend on every x of the channel, hence the sums)
//             eval: dx = γ/sqrt(σ²+eps) · dy
// The loops are engine/kernels/batchnorm.c's.
#include "gb_layers.h"

#include <math.h>

#include "../kernels/batchnorm.h"

// What forward keeps for backward: μ and 1/sqrt(σ² + eps) per channel.
typedef struct bn_saved { float *mean, *invstd; } bn_saved;

static void batchnorm_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0], *gamma = node->inputs[1], *beta = node->inputs[2];
    const bn_saved *sv = node->p.saved;
    int N = x->shape[0], C = x->shape[1], HW = x->shape[2] * x->shape[3];
    int store_dx = 0;   // a new flow for dx is stored, not added to (gb_flow_for_store)
    float *dx = gb_needs_grad(x) ? gb_flow_for_store(g, x, &store_dx) : NULL;
    float *dgamma = gb_needs_grad(gamma) ? gb_flow(g, gamma) : NULL;
    float *dbeta = gb_needs_grad(beta) ? gb_flow(g, beta) : NULL;
    if ((gb_needs_grad(x) && !dx) || (gb_needs_grad(gamma) && !dgamma) || (gb_needs_grad(beta) && !dbeta)) return;
    gb_f32_batchnorm_backward(N, C, HW, x->data, node->output->flow, gamma->data, sv->mean, sv->invstd,
                              node->p.training, dx, store_dx, dgamma, dbeta);
}

static void batchnorm_describe(const gb_node *node, gb_sb *sb, int locals) {
    if (!locals) {
        gb_desc_saved_scalar(sb, "training", node->p.training);
        gb_desc_saved_scalar(sb, "eps", node->p.scalar);
        return;
    }
    gb_desc_local(sb, node, 0, node->p.training ? "γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂))" : "γ/σ");
    gb_desc_local(sb, node, 1, "x̂");
    gb_desc_local(sb, node, 2, "1");
}

const gb_op_def gb_op_batchnorm2d = { .name = "NativeBatchNormBackward0", .backward = batchnorm_backward,
                                      .describe = batchnorm_describe, .saves_tensors = 1,
                                      .unread = GB_UNREAD_INPUT(2) | GB_UNREAD_OUTPUT,
                                      .flow_in_place = 1 };   // per channel: all sums, then dx

gb_status gb_batchnorm2d(gb_graph *g, gb_tensor *x, gb_bn_params *bn, int training, gb_tensor **out) {
    if (x->ndim != 4) return gb_set_error(GB_ERR_SHAPE, "expected 4D input (got %dD input)", x->ndim);
    int N = x->shape[0], C = x->shape[1], HW = x->shape[2] * x->shape[3];
    if (bn->weight->numel != C)
        return gb_set_error(GB_ERR_SHAPE, "running_mean should contain %d elements not %d", C, bn->weight->numel);
    if (training && N * HW <= 1)
        return gb_set_error(GB_ERR_ARG, "Expected more than 1 value per channel when training, got input size "
                                        "torch.Size([%d, %d, %d, %d])", N, C, x->shape[2], x->shape[3]);
    gb_tensor *y = gb_graph_tensor_reuse(g, 4, x->shape, x);   // in place when nothing reads x after
    bn_saved *sv = gb_arena_alloc(&g->arena, sizeof *sv);
    float *stats = gb_arena_alloc(&g->arena, 2 * (size_t)C * sizeof(float));
    if (!y || !sv || !stats) return gb_set_error(GB_ERR_NOMEM, "batchnorm: out of memory");
    sv->mean = stats;
    sv->invstd = stats + C;
    if (gb_graph_measuring(g)) {
        // the plan pass runs no kernel and leaves the running statistics be
    } else if (training) {
        gb_f32_batchnorm_forward_train(N, C, HW, x->data, bn->weight->data, bn->bias->data, bn->eps,
                                       bn->momentum, bn->running_mean->data, bn->running_var->data,
                                       y->data, sv->mean, sv->invstd);
        bn->num_batches_tracked++;
    } else {
        gb_f32_batchnorm_forward_eval(N, C, HW, x->data, bn->weight->data, bn->bias->data,
                                      bn->running_mean->data, bn->running_var->data, bn->eps, y->data);
        for (int c = 0; c < C; c++) {
            sv->mean[c] = bn->running_mean->data[c];
            sv->invstd[c] = 1.0f / sqrtf(bn->running_var->data[c] + bn->eps);
        }
    }
    gb_op_params p = { .training = training, .scalar = bn->eps, .saved = sv };
    gb_tensor *inputs[3] = { x, bn->weight, bn->bias };
    gb_graph_record(g, &gb_op_batchnorm2d, y, inputs, 3, &p);
    *out = y;
    return GB_OK;
}
