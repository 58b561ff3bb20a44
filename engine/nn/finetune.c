// finetune.c: the head on cached features, the trainable parameters, the
// divergence guard's check, and the DataLoader's order. See gb_finetune.h.
#include "gb_finetune.h"

#include <math.h>
#include <string.h>

#include "../threads/gb_pool.h"

// A head smaller than this (N·in·out multiply-adds, ~1 ms on one thread)
// runs on the calling thread alone: waking the workers would cost more.
#define HEAD_SERIAL_MACS (1 << 22)

gb_module *gb_resnet18_fc(gb_model *m) {
    gb_module *fc = m->root->children[m->root->n_children - 1];
    GB_ASSERT(fc->kind == GB_MOD_LINEAR && strcmp(fc->name, "fc") == 0, "resnet18's last child is fc");
    return fc;
}

gb_status gb_resnet18_head(gb_model *m, gb_graph *g, const float *feats, int N, gb_tensor **logits) {
    gb_module *fc = gb_resnet18_fc(m);
    if (N < 1 || (double)N * fc->in_ch > (1 << 26))
        return gb_set_error(GB_ERR_SHAPE, "bad features shape (%d, %d)", N, fc->in_ch);
    int shape[2] = { N, fc->in_ch };
    gb_tensor *x = gb_graph_tensor(g, 2, shape);
    if (!x) return gb_set_error(GB_ERR_NOMEM, "out of memory for the features");
    memcpy(x->data, feats, sizeof(float) * (size_t)x->numel);
    int serial = (double)N * fc->in_ch * fc->out_ch < HEAD_SERIAL_MACS, prev = serial ? gb_pool_serial_begin() : 0;
    gb_status st = gb_linear(g, x, fc->params[0], fc->n_params > 1 ? fc->params[1] : NULL, logits);
    if (serial) gb_pool_serial_end(prev);
    return st;
}

static gb_status head_step(gb_model *m, gb_graph *g, gb_optimizer *o, const float *feats, int N,
                           const int *targets, float *loss) {
    gb_tensor *logits, *l;
    GB_TRY(gb_resnet18_head(m, g, feats, N, &logits));
    GB_TRY(gb_cross_entropy(g, logits, targets, &l));
    *loss = l->data[0];
    gb_model_zero_grad(m, 1);
    GB_TRY(gb_model_backward(m, g, l));
    return gb_optim_step(o);
}

gb_status gb_resnet18_head_step(gb_model *m, gb_graph *g, gb_optimizer *o, const float *feats, int N,
                                const int *targets, float *loss) {
    gb_module *fc = gb_resnet18_fc(m);
    int serial = (double)N * fc->in_ch * fc->out_ch < HEAD_SERIAL_MACS, prev = serial ? gb_pool_serial_begin() : 0;
    gb_status st = head_step(m, g, o, feats, N, targets, loss);
    if (serial) gb_pool_serial_end(prev);
    return st;
}

int gb_model_trainable(gb_model *m, gb_tensor **out, int cap) {
    gb_tensor *all[128];
    int n = gb_module_parameters(m->root, all, 128), k = 0;
    GB_ASSERT(n <= 128, "resnet18 has 62 parameters, not %d", n);
    for (int i = 0; i < n; i++) {
        if (!(all[i]->flags & GB_REQUIRES_GRAD)) continue;
        if (k < cap) out[k] = all[i];
        k++;
    }
    return k;
}

gb_status gb_model_check_head_only(gb_model *m) {
    gb_tensor *t[128];
    int n = gb_model_trainable(m, t, 128);
    gb_module *fc = gb_resnet18_fc(m);
    int fc_on = 0;
    for (int i = 0; i < fc->n_params; i++) fc_on += (fc->params[i]->flags & GB_REQUIRES_GRAD) != 0;
    if (n == fc_on && fc_on == fc->n_params) return GB_OK;
    if (n > fc_on)
        return gb_set_error(GB_ERR_ARG, "a step on cached features trains fc alone, but %d other parameter(s) "
                                        "require grad (the first: %s): freeze them, or train with model.step on images",
                            n - fc_on, t[0]->name);
    return gb_set_error(GB_ERR_ARG, "a step on cached features trains fc.weight and fc.bias, but only %d of them "
                                    "require(s) grad", fc_on);
}

static int all_finite(const gb_tensor *t) {
    // NOTE: x - x is 0 for finite x and NaN for ±inf and NaN; summed, one
    // NaN shows. Cheaper than isfinite per value, and the same answer.
    float acc = 0;
    for (int i = 0; i < t->numel; i++) acc += t->data[i] - t->data[i];
    return acc == 0;
}

typedef struct finite_ctx { int ok; } finite_ctx;

static void check_module(gb_module *mod, void *ctx) {
    finite_ctx *c = ctx;
    for (int i = 0; c->ok && i < mod->n_params; i++)
        if (mod->params[i]->flags & GB_REQUIRES_GRAD) c->ok = all_finite(mod->params[i]);
    for (int i = 0; c->ok && i < mod->n_buffers; i++) c->ok = all_finite(mod->buffers[i]);
}

int gb_model_all_finite(gb_model *m) {
    finite_ctx c = { 1 };
    gb_module_walk(m->root, check_module, &c);
    return c.ok;
}

void gb_randperm_cpu(gb_generator *gen, int n, int32_t *out) {
    for (int i = 0; i < n; i++) out[i] = i;
    // NOTE: torch 1.13's randperm_cpu takes generator->random() (32 bits) modulo
    // the remaining count; the bias of the modulo is torch's too.
    for (int i = 0; i < n - 1; i++) {
        int z = (int)(gb_generator_random(gen) % (uint32_t)(n - i));
        int32_t t = out[i];
        out[i] = out[i + z];
        out[i + z] = t;
    }
}

void gb_dataloader_order(uint64_t seed, int n, int epoch, int32_t *out) {
    gb_generator gen;
    gb_generator_seed(&gen, seed);
    // Each epoch takes 2 + 2·(n - 1) draws (n ≥ 1); skip the earlier epochs'.
    int64_t skip = (int64_t)epoch * (2 + 2 * (int64_t)(n > 0 ? n - 1 : 0));
    for (int64_t i = 0; i < skip; i++) gb_generator_random(&gen);
    gb_generator_random(&gen);   // _base_seed: random_() on an int64 tensor is random64(),
    gb_generator_random(&gen);   // two 32-bit draws
    gb_randperm_cpu(&gen, n, out);
}
