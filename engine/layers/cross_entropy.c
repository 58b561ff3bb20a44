// cross_entropy.c: the classification loss, as PyTorch builds it from two
// nodes: log_softmax (LogSoftmaxBackward0) then nll_loss (NllLossBackward0).
//   log_softmax  z[n,k] = x[n,k] − log Σ_j exp(x[n,j])    (shifted by max_j x[n,j]
//                so no exp overflows)
//     backward   dx[n,k] += dz[n,k] − softmax[n,k] · Σ_j dz[n,j]
//   nll_loss     L = −(1/N) Σ_n z[n, t_n]                  (mean over the batch)
//     backward   dz[n, t_n] += −dL / N
// Together: dx = (softmax − onehot(t)) / N · dL, the familiar gradient.
#include "gb_layers.h"

#include <math.h>
#include <string.h>

static void log_softmax_backward(gb_node *node, gb_graph *g) {
    gb_tensor *x = node->inputs[0], *z = node->output;
    int N = x->shape[0], K = x->shape[1];
    float *dx = gb_flow(g, x);
    if (!dx) return;
    for (int n = 0; n < N; n++) {
        const float *dz = z->flow + (size_t)n * K, *zn = z->data + (size_t)n * K;
        float sum = 0;
        for (int k = 0; k < K; k++) sum += dz[k];
        for (int k = 0; k < K; k++) dx[(size_t)n * K + k] += dz[k] - expf(zn[k]) * sum;
    }
}

static void log_softmax_describe(const gb_node *node, gb_sb *sb, int locals) {
    if (!locals) { gb_desc_saved_tensor(sb, "result", node->output); return; }
    gb_desc_local(sb, node, 0, "dz − softmax·Σdz");
}

const gb_op_def gb_op_log_softmax = { .name = "LogSoftmaxBackward0", .backward = log_softmax_backward,
                                      .describe = log_softmax_describe, .saves_tensors = 1 };

static gb_status log_softmax(gb_graph *g, gb_tensor *x, gb_tensor **out) {
    int N = x->shape[0], K = x->shape[1];
    gb_tensor *z = gb_graph_tensor(g, 2, x->shape);
    if (!z) return GB_ERR_NOMEM;
    for (int n = 0; n < N && !gb_graph_measuring(g); n++) {
        const float *xn = x->data + (size_t)n * K;
        float m = -INFINITY;
        for (int k = 0; k < K; k++) m = xn[k] > m ? xn[k] : m;
        double s = 0;
        for (int k = 0; k < K; k++) s += exp((double)xn[k] - m);
        float lse = m + (float)log(s);
        for (int k = 0; k < K; k++) z->data[(size_t)n * K + k] = xn[k] - lse;
    }
    gb_graph_record(g, &gb_op_log_softmax, z, &x, 1, NULL);
    *out = z;
    return GB_OK;
}

static void nll_backward(gb_node *node, gb_graph *g) {
    gb_tensor *z = node->inputs[0];
    int N = z->shape[0], K = z->shape[1];
    const int *targets = node->p.saved;
    float *dz = gb_flow(g, z);
    if (!dz) return;
    float dL = node->output->flow[0];
    for (int n = 0; n < N; n++) dz[(size_t)n * K + targets[n]] += -dL / (float)N;
}

static void nll_describe(const gb_node *node, gb_sb *sb, int locals) {
    if (!locals) return;
    gb_desc_local(sb, node, 0, "−1/N at each target class, 0 elsewhere");
}

const gb_op_def gb_op_nll_loss = { .name = "NllLossBackward0", .backward = nll_backward,
                                   .describe = nll_describe, .saves_tensors = 1 };

gb_status gb_cross_entropy(gb_graph *g, gb_tensor *logits, const int *targets, gb_tensor **out) {
    if (logits->ndim != 2) return gb_set_error(GB_ERR_SHAPE, "cross_entropy: expected (N, classes) logits, got %dD", logits->ndim);
    int N = logits->shape[0], K = logits->shape[1];
    if (N < 1) return gb_set_error(GB_ERR_SHAPE, "cross_entropy: an empty batch");
    for (int n = 0; n < N; n++)
        if (targets[n] < 0 || targets[n] >= K)
            return gb_set_error(GB_ERR_INDEX, "Target %d is out of bounds.", targets[n]);
    int *saved = gb_arena_alloc(&g->arena, (size_t)N * sizeof(int));
    if (!saved) return GB_ERR_NOMEM;
    memcpy(saved, targets, (size_t)N * sizeof(int));
    gb_tensor *z;
    GB_TRY(log_softmax(g, logits, &z));
    gb_tensor *loss = gb_graph_tensor(g, 0, NULL);
    if (!loss) return GB_ERR_NOMEM;
    double s = 0;
    for (int n = 0; n < N && !gb_graph_measuring(g); n++) s -= z->data[(size_t)n * K + targets[n]];
    if (!gb_graph_measuring(g)) loss->data[0] = (float)(s / N);
    gb_op_params p = { .saved = saved };
    gb_graph_record(g, &gb_op_nll_loss, loss, &z, 1, &p);
    *out = loss;
    return GB_OK;
}
