// optim_state.c: optimizer.state_dict()['state'] as named tensors and back,
// so a run that a reload interrupted goes on exactly as it would have
// (tests/resnet/finetune-engine.test.mjs, "optimizer state"). See gb_finetune.h.
#include "gb_finetune.h"

#include <stdio.h>
#include <string.h>

static gb_status add_buffer(gb_state_dict *out, const gb_tensor *p, const char *what, const float *data) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", p->name, what);
    int64_t shape[GB_SD_MAX_NDIM] = { 0 };
    for (int d = 0; d < p->ndim; d++) shape[d] = p->shape[d];
    return gb_sd_add(out, key, p->ndim, shape, GB_DT_F32, data);
}

gb_status gb_optim_state_save(const gb_optimizer *o, gb_state_dict *out) {
    for (int i = 0; i < o->n_params; i++) {
        const gb_optim_state *s = &o->state[i];
        const gb_tensor *p = o->params[i];
        if (!s->present) continue;
        if (o->kind == GB_OPTIM_SGD) {
            if (s->momentum_buffer) GB_TRY(add_buffer(out, p, "momentum_buffer", s->momentum_buffer));
            continue;
        }
        GB_TRY(add_buffer(out, p, "exp_avg", s->exp_avg));
        GB_TRY(add_buffer(out, p, "exp_avg_sq", s->exp_avg_sq));
        char key[160];
        int64_t none[GB_SD_MAX_NDIM] = { 0 };
        snprintf(key, sizeof key, "%s.step", p->name);
        GB_TRY(gb_sd_add(out, key, 0, none, GB_DT_F32, &s->step));
    }
    return GB_OK;
}

// The optimizer's parameter that `key` ("layer4.0.conv1.weight.exp_avg")
// belongs to, and which buffer it names; -1 when none.
static int param_of(const gb_optimizer *o, const char *key, const char **what) {
    for (int i = 0; i < o->n_params; i++) {
        size_t n = strlen(o->params[i]->name);
        if (strncmp(key, o->params[i]->name, n) == 0 && key[n] == '.') {
            *what = key + n + 1;
            return i;
        }
    }
    return -1;
}

static int same_shape(const gb_sd_entry *e, const gb_tensor *p) {
    if (e->ndim != p->ndim) return 0;
    for (int d = 0; d < p->ndim; d++)
        if (e->shape[d] != p->shape[d]) return 0;
    return 1;
}

// Which buffers the file holds for parameter i: bit 0 momentum_buffer,
// bit 1 exp_avg, bit 2 exp_avg_sq, bit 3 step. Checks each entry.
static gb_status check_entry(const gb_optimizer *o, const gb_sd_entry *e, int *param, int *bit) {
    const char *what = NULL;
    int i = param_of(o, e->name, &what);
    if (i < 0)
        return gb_set_error(GB_ERR_MISMATCH, "optimizer state: '%.120s' is not the state of a parameter this "
                                             "optimizer trains", e->name);
    static const char *const names[4] = { "momentum_buffer", "exp_avg", "exp_avg_sq", "step" };
    int b = -1;
    for (int k = 0; k < 4; k++)
        if (strcmp(what, names[k]) == 0) b = k;
    int sgd = o->kind == GB_OPTIM_SGD;
    if (b < 0 || (sgd && b != 0) || (!sgd && b == 0) || (sgd && o->momentum == 0))
        return gb_set_error(GB_ERR_MISMATCH, "optimizer state: '%.120s' is not state of %s%s", e->name,
                            sgd ? "SGD" : "Adam", sgd && o->momentum == 0 ? " without momentum" : "");
    int ok = b == 3 ? e->ndim == 0 : same_shape(e, o->params[i]);
    if (!ok) return gb_set_error(GB_ERR_MISMATCH, "optimizer state: '%.120s' has the wrong shape", e->name);
    *param = i;
    *bit = 1 << b;
    return GB_OK;
}

gb_status gb_optim_state_load(gb_optimizer *o, const gb_state_dict *sd) {
    int have[128] = { 0 };
    GB_ASSERT(o->n_params <= 128, "at most 128 parameters");
    for (int k = 0; k < sd->n; k++) {
        int i, bit;
        GB_TRY(check_entry(o, &sd->entries[k], &i, &bit));
        have[i] |= bit;
    }
    for (int i = 0; i < o->n_params; i++)
        if (o->kind == GB_OPTIM_ADAM && have[i] && have[i] != 14)
            return gb_set_error(GB_ERR_MISMATCH, "optimizer state: Adam's state of %s needs exp_avg, exp_avg_sq "
                                                 "and step", o->params[i]->name);
    // Room first, so that running out of memory changes nothing.
    gb_optim_state fresh[128];
    memset(fresh, 0, sizeof fresh);
    for (int i = 0; i < o->n_params; i++) {
        fresh[i] = o->state[i];
        size_t bytes = sizeof(float) * (size_t)o->params[i]->numel;
        if ((have[i] & 1) && !fresh[i].momentum_buffer && !(fresh[i].momentum_buffer = gb_arena_alloc(&o->arena, bytes)))
            return gb_set_error(GB_ERR_NOMEM, "out of memory for the optimizer state");
        if ((have[i] & 2) && !fresh[i].exp_avg &&
            (!(fresh[i].exp_avg = gb_arena_alloc(&o->arena, bytes)) || !(fresh[i].exp_avg_sq = gb_arena_alloc(&o->arena, bytes))))
            return gb_set_error(GB_ERR_NOMEM, "out of memory for the optimizer state");
    }
    for (int i = 0; i < o->n_params; i++) {
        fresh[i].present = have[i] != 0;
        fresh[i].step = 0;
        o->state[i] = fresh[i];
    }
    for (int k = 0; k < sd->n; k++) {
        const gb_sd_entry *e = &sd->entries[k];
        const char *what;
        gb_optim_state *s = &o->state[param_of(o, e->name, &what)];
        float *dst = strcmp(what, "momentum_buffer") == 0 ? s->momentum_buffer
                   : strcmp(what, "exp_avg") == 0         ? s->exp_avg
                   : strcmp(what, "exp_avg_sq") == 0      ? s->exp_avg_sq
                                                          : &s->step;
        memcpy(dst, e->data, sizeof(float) * (size_t)e->numel);
    }
    return GB_OK;
}
