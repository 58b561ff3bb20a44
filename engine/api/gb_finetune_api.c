// gb_finetune_api.c: the exports a fine-tuning loop adds to a model handle
// (docs/fine-tuning.md §1): features and the head on them, a step on cached
// features, parts of the state_dict, the divergence guard's check, the
// optimizer's state, and the DataLoader's order. Validate, look up, forward:
// the logic is engine/nn's (gb_finetune.h, gb_state.h).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/gb_finetune.h"
#include "../nn/gb_state.h"
#include "gb_api.h"
#include "gb_model_slot.h"

typedef gb_model_slot model_slot;

typedef struct features_call { model_slot *s; const float *x; int N, H, W; gb_tensor *feats; } features_call;

static gb_status features_body(gb_graph *g, void *ctx) {
    features_call *c = ctx;
    int shape[4] = { c->N, 3, c->H, c->W };
    gb_tensor *in = gb_graph_tensor(g, 4, shape);
    if (!in) return gb_set_error(GB_ERR_NOMEM, "out of memory for the input");
    if (!gb_graph_measuring(g)) memcpy(in->data, c->x, (size_t)in->numel * sizeof(float));
    GB_TRY(gb_resnet18_features(&c->s->model, g, in, &c->feats));
    gb_graph_keep(g, c->feats);
    return GB_OK;
}

// feats (N, 512) = torch.flatten(avgpool(...(x)), 1) under torch.no_grad(),
// in the model's mode (train mode uses and updates the batch statistics, as
// torch's forward does): the bits the full forward feeds fc.
GB_API int gb_model_features(int h, const float *x, int N, int H, int W, float *feats_out) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!x || !feats_out) return gb_set_error(GB_ERR_ARG, "gb_model_features: missing buffer");
    if (N < 1 || H < 1 || W < 1 || (double)N * 3 * H * W > GB_MAX_INPUT_NUMEL)
        return gb_set_error(GB_ERR_SHAPE, "bad input shape (%d, 3, %d, %d)", N, H, W);
    features_call c = { .s = s, .x = x, .N = N, .H = H, .W = W };
    s->step.grad_enabled = 0;
    gb_status st = gb_graph_run_planned(&s->step, gb_model_step_key(s, GB_STEP_FEATURES, N, H, W), features_body, &c);
    s->step.grad_enabled = 1;
    if (st == GB_OK) memcpy(feats_out, c.feats->data, (size_t)c.feats->numel * sizeof(float));
    gb_graph_reset(&s->step);
    return st;
}

// logits (N, classes) = model.fc(feats) under torch.no_grad().
GB_API int gb_model_head_forward(int h, const float *feats, int N, float *logits_out) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!feats || !logits_out) return gb_set_error(GB_ERR_ARG, "gb_model_head_forward: missing buffer");
    gb_graph_reset(&s->step);
    s->step.grad_enabled = 0;
    gb_tensor *logits;
    gb_status st = gb_resnet18_head(&s->model, &s->step, feats, N, &logits);
    s->step.grad_enabled = 1;
    if (st == GB_OK) memcpy(logits_out, logits->data, (size_t)logits->numel * sizeof(float));
    gb_graph_reset(&s->step);
    return st;
}

// gb_model_step on cached features: zero_grad; loss = cross_entropy(fc(feats),
// targets); backward; optimizer.step(). Only when exactly fc's parameters
// require grad; then the same bits as gb_model_step on the images with the
// backbone frozen in eval mode (finetune-engine.test.mjs, "headStep").
GB_API int gb_model_head_step(int h, const float *feats, int N, const int *targets) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!feats || !targets) return gb_set_error(GB_ERR_ARG, "gb_model_head_step: missing buffer");
    if (!s->has_opt) return gb_set_error(GB_ERR_ARG, "no optimizer: set one first (model.setOptimizer), and again "
                                                     "after requires_grad or the head changes");
    GB_TRY(gb_model_check_head_only(&s->model));
    gb_graph_reset(&s->step);
    return gb_resnet18_head_step(&s->model, &s->step, &s->opt, feats, N, targets, &s->last_loss, &s->last_correct);
}

#define MAX_PREFIX_BYTES 1024   // all of gb_model_save_keys' prefixes
#define MAX_PREFIXES 32

// The state_dict entries whose keys start with one of the prefixes in
// `prefixes` (separated by newlines; "fc." is the head), as gb_model_save
// writes them, into *out, *len (none matched: GB_ERR_ARG).
GB_API int gb_model_save_keys(int h, int format, const char *prefixes, uint8_t **out, size_t *len) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!prefixes || !out || !len) return gb_set_error(GB_ERR_ARG, "gb_model_save_keys: missing argument");
    gb_file_format f;
    GB_TRY(gb_file_format_of_code(format, &f));
    char buf[MAX_PREFIX_BYTES];
    const char *list[MAX_PREFIXES];
    int n = 0;
    if (strlen(prefixes) >= sizeof buf) return gb_set_error(GB_ERR_ARG, "key prefixes: too long");
    strcpy(buf, prefixes);
    for (char *p = strtok(buf, "\n"); p && n < MAX_PREFIXES; p = strtok(NULL, "\n")) list[n++] = p;
    if (n == 0) return gb_set_error(GB_ERR_ARG, "no key prefixes given (e.g. 'fc.')");
    gb_state_dict sd;
    memset(&sd, 0, sizeof sd);
    gb_status st = gb_module_state_dict_keys(s->model.root, list, n, &sd);
    if (st == GB_OK && sd.n == 0) st = gb_set_error(GB_ERR_ARG, "no state_dict key starts with '%.80s'", list[0]);
    if (st != GB_OK) {
        gb_sd_free(&sd);
        return st;
    }
    return gb_model_slot_write(s, &sd, f, out, len);
}

// load_state_dict(strict=False) of .safetensors or .pth bytes, except that
// unexpected keys and size mismatches are refused (torch's strict message):
// the keys the file lacks keep their values. A refused file changes nothing.
GB_API int gb_model_load_partial(int h, const uint8_t *buf, size_t len) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!buf) return gb_set_error(GB_ERR_ARG, "no weights given");
    gb_state_dict sd;
    memset(&sd, 0, sizeof sd);
    GB_TRY(gb_weights_read(buf, len, &sd, NULL));
    if (sd.n == 0) return gb_set_error(GB_ERR_MISMATCH, "this weights file holds no tensors: nothing to load");
    static char report[GB_LOAD_REPORT_BYTES];
    gb_graph_reset(&s->step);   // no graph may point at the old weights
    gb_status st = gb_module_load_state_dict_partial(s->model.root, "ResNet", &sd, report, sizeof report);
    gb_sd_free(&sd);
    return st;
}

// 1 when every parameter that requires grad and every BatchNorm running
// statistic is finite, 0 when one is not, -status for a bad handle.
GB_API int gb_model_finite(int h) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return -GB_ERR_BAD_HANDLE;
    return gb_model_all_finite(&s->model);
}

// optimizer.state_dict()['state'] as safetensors bytes (gb_finetune.h's
// names) into *out, *len (no optimizer: GB_ERR_ARG).
GB_API int gb_model_optimizer_state(int h, uint8_t **out, size_t *len) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!out || !len) return gb_set_error(GB_ERR_ARG, "gb_model_optimizer_state: missing argument");
    if (!s->has_opt) return gb_set_error(GB_ERR_ARG, "no optimizer: set one first (model.setOptimizer)");
    gb_state_dict sd;
    memset(&sd, 0, sizeof sd);
    gb_status st = gb_optim_state_save(&s->opt, &sd);
    if (st != GB_OK) {
        gb_sd_free(&sd);
        return st;
    }
    return gb_model_slot_write(s, &sd, GB_FILE_SAFETENSORS, out, len);
}

// Puts back what gb_model_optimizer_state wrote, into the optimizer set now
// (the same kind, over the same parameters). All or nothing.
GB_API int gb_model_set_optimizer_state(int h, const uint8_t *buf, size_t len) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!buf) return gb_set_error(GB_ERR_ARG, "no optimizer state given");
    if (!s->has_opt) return gb_set_error(GB_ERR_ARG, "no optimizer: set one first (model.setOptimizer)");
    gb_state_dict sd;
    memset(&sd, 0, sizeof sd);
    GB_TRY(gb_safetensors_read(buf, len, &sd));
    gb_status st = gb_optim_state_load(&s->opt, &sd);
    gb_sd_free(&sd);
    return st;
}

// out (n) = the order DataLoader(ds, shuffle=True, generator=
// torch.Generator().manual_seed(seed)) visits ds in epoch `epoch`.
GB_API int gb_randperm(double seed, int n, int epoch, int *out) {
    if (!out) return gb_set_error(GB_ERR_ARG, "gb_randperm: missing buffer");
    if (n < 1 || n > GB_MAX_RANDPERM) return gb_set_error(GB_ERR_ARG, "randperm: n must be 1..%d, not %d", GB_MAX_RANDPERM, n);
    if (epoch < 0) return gb_set_error(GB_ERR_ARG, "randperm: epoch must be >= 0, not %d", epoch);
    if (!(seed >= 0 && seed < 0x1p64))
        return gb_set_error(GB_ERR_ARG, "randperm: the seed must be 0..2^64-1, not %g", seed);
    gb_dataloader_order((uint64_t)seed, n, epoch, out);
    return GB_OK;
}
