// gb_model_api.c: the ResNet-18 lessons' exports: a model handle with its
// weights, its modes and its tensors. Validate, look up, forward.
// What a handle holds: gb_model_slot.h; forward and training steps:
// gb_model_step_api.c; fine-tuning's extras: gb_finetune_api.c; the reports
// on it: model_info.c.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/gb_state.h"
#include "../nn/io/gb_format.h"
#include "gb_api.h"
#include "gb_model_slot.h"

typedef gb_model_slot model_slot;

static model_slot *models[GB_MAX_MODELS + 1];   // handle h lives at [h]; 0 is never used

gb_model_slot *gb_model_slot_of(int h) {
    if (h <= 0 || h > GB_MAX_MODELS || !models[h]) {
        gb_set_error(GB_ERR_BAD_HANDLE, "no model %d", h);
        return NULL;
    }
    return models[h];
}

// The slot of handle h with its parameters drawn. torchvision's init (11.7 M
// draws, ~0.5 s in wasm) is deferred from gb_model_new to the first call that
// reads or changes the model, and skipped when that call is a gb_model_load
// that succeeds: the file replaces every value. The seed is kept, so the
// numbers are the same either way (tests/resnet/lazy-init.test.mjs).
gb_model_slot *gb_model_slot_ready(int h) {
    model_slot *s = gb_model_slot_of(h);
    if (s && s->init_pending) {
        gb_status st = gb_resnet18_init(&s->model, NULL, s->seed);
        GB_ASSERT(st == GB_OK, "torchvision's init only draws numbers: it cannot fail");
        s->init_pending = 0;
    }
    return s;
}

void gb_model_slot_drop_optimizer(gb_model_slot *s) {
    if (s->has_opt) gb_optim_free(&s->opt);
    s->has_opt = 0;
}

// num_classes 1..GB_MAX_CLASSES, or GB_ERR_ARG.
static gb_status check_classes(int num_classes) {
    if (num_classes >= 1 && num_classes <= GB_MAX_CLASSES) return GB_OK;
    return gb_set_error(GB_ERR_ARG, "num_classes must be 1..%d, not %d", GB_MAX_CLASSES, num_classes);
}

GB_API int gb_model_new(int num_classes, double seed) {
    gb_status cs = check_classes(num_classes);
    if (cs != GB_OK) return -cs;
    for (int h = 1; h <= GB_MAX_MODELS; h++) {
        if (models[h]) continue;
        model_slot *s = calloc(1, sizeof *s);
        if (!s) return -gb_set_error(GB_ERR_NOMEM, "out of memory for a model");
        gb_status st = gb_resnet18_new(&s->model, num_classes);
        if (st != GB_OK) { free(s); return -st; }
        s->init_pending = 1;   // drawn by gb_model_slot_ready, unless weights are loaded first
        s->seed = (uint64_t)seed;
        gb_graph_init(&s->step);
        gb_sb_init(&s->json);
        gb_module_train(s->model.root, 0);
        models[h] = s;
        return h;
    }
    return -gb_set_error(GB_ERR_NOMEM, "too many models (at most %d)", GB_MAX_MODELS);
}

GB_API void gb_model_free(int h) {
    model_slot *s = gb_model_slot_of(h);
    if (!s) return;
    gb_model_slot_drop_optimizer(s);
    gb_graph_free(&s->step);
    gb_resnet18_free(&s->model);
    gb_sb_free(&s->json);
    free(s->saved);
    free(s);
    models[h] = NULL;
}

// Reads .safetensors or PyTorch .pth (zip) bytes and loads them with
// load_state_dict(strict=True) semantics; the message says what did not fit.
// A failed load changes nothing: not the weights (gb_state.h: all or
// nothing), not the load info (tests/resnet/frozen.test.mjs, "load report").
GB_API int gb_model_load(int h, const uint8_t *buf, size_t len) {
    model_slot *s = gb_model_slot_of(h);   // no init: the file replaces every value
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!buf) return gb_set_error(GB_ERR_ARG, "no weights given");
    gb_state_dict sd;
    memset(&sd, 0, sizeof sd);
    gb_file_format format;
    gb_status st = gb_weights_read(buf, len, &sd, &format);
    if (st == GB_OK) {
        static char report[GB_LOAD_REPORT_BYTES];
        gb_graph_reset(&s->step);   // no graph may point at the old weights
        st = gb_module_load_state_dict(s->model.root, "ResNet", &sd, report, sizeof report);
    }
    if (st == GB_OK) {
        s->load = (gb_load_info){ .format = gb_file_format_name(format), .keys = sd.n };
        s->init_pending = 0;
    }
    gb_sd_free(&sd);
    return st;
}

gb_status gb_file_format_of_code(int format, gb_file_format *out) {
    if (format == GB_FORMAT_SAFETENSORS) *out = GB_FILE_SAFETENSORS;
    else if (format == GB_FORMAT_PTH) *out = GB_FILE_PTH;
    else return gb_set_error(GB_ERR_ARG, "unknown file format %d (%d safetensors, %d pth)", format, GB_FORMAT_SAFETENSORS,
                             GB_FORMAT_PTH);
    return GB_OK;
}

gb_status gb_model_slot_write(gb_model_slot *s, gb_state_dict *sd, gb_file_format format, uint8_t **out, size_t *len) {
    uint8_t *bytes = NULL;
    size_t n = 0;
    gb_status st = gb_weights_write(sd, format, &bytes, &n);
    gb_sd_free(sd);
    if (st != GB_OK) return st;
    free(s->saved);
    s->saved = bytes;
    *out = bytes;
    *len = n;
    return GB_OK;
}

// model.state_dict() written as GB_FORMAT_SAFETENSORS or GB_FORMAT_PTH into
// *out, *len; the bytes stay valid until the next save.
GB_API int gb_model_save(int h, int format, uint8_t **out, size_t *len) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!out || !len) return gb_set_error(GB_ERR_ARG, "gb_model_save: missing argument");
    gb_file_format f;
    GB_TRY(gb_file_format_of_code(format, &f));
    gb_state_dict sd;
    memset(&sd, 0, sizeof sd);
    gb_status st = gb_module_state_dict(s->model.root, &sd);
    if (st != GB_OK) {
        gb_sd_free(&sd);
        return st;
    }
    return gb_model_slot_write(s, &sd, f, out, len);
}

GB_API int gb_model_set_requires_grad(int h, const char *path, int on) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    gb_model_slot_drop_optimizer(s);   // its parameter list follows requires_grad
    return gb_module_set_requires_grad(s->model.root, path ? path : "", on != 0);
}

GB_API int gb_model_train_mode(int h, int on) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    gb_module_train(s->model.root, on != 0);
    return GB_OK;
}

GB_API int gb_model_replace_fc(int h, int num_classes, double seed) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    GB_TRY(check_classes(num_classes));
    gb_model_slot_drop_optimizer(s);
    gb_graph_reset(&s->step);
    return gb_resnet18_replace_fc(&s->model, num_classes, NULL, (uint64_t)seed);
}

#define MAX_STATE_ITEMS 160   // resnet18's state_dict has 122 entries

// The state_dict entry called `key`, or GB_ERR_NAME.
static gb_status find_item(model_slot *s, const char *key, gb_state_item *out) {
    gb_state_item items[MAX_STATE_ITEMS];
    int n = gb_module_state_items(s->model.root, 1, items, MAX_STATE_ITEMS);
    GB_ASSERT(n <= MAX_STATE_ITEMS, "resnet18 has 122 state_dict entries, not %d", n);
    for (int i = 0; key && i < n; i++) {
        if (strcmp(items[i].key, key) != 0) continue;
        *out = items[i];
        return GB_OK;
    }
    return gb_set_error(GB_ERR_NAME, "no tensor '%.80s' in the state_dict", key ? key : "(null)");
}

// A state_dict entry's values (grad 0) or its .grad (grad 1) by key:
// *out points at them (NULL when there is no .grad); returns the element
// count, or -status for an unknown key. num_batches_tracked is not a float
// tensor: read it from gb_model_save.
GB_API int gb_model_tensor(int h, const char *key, int grad, float **out) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return -GB_ERR_BAD_HANDLE;
    gb_state_item item;
    gb_status st = find_item(s, key, &item);
    if (st == GB_OK && !item.t) st = gb_set_error(GB_ERR_NAME, "'%.80s' is an int64 counter: read it from the saved state_dict", key);
    if (st != GB_OK) return -(int)st;
    *out = grad ? item.t->grad : item.t->data;
    return item.t->numel;
}

// with torch.no_grad(): model.state_dict()[key].copy_(data): a parameter or
// a running statistic, `n` floats in the tensor's (row-major) order. Bumps
// the tensor's version, so the layer's cached transformed weights are made
// again at the next forward (gb_layers.h), and resets the step graph (no
// backward may run through the old values). Guarded by frozen.test.mjs
// ("setTensor": logits as torch's after writing conv1 and a Winograd layer).
GB_API int gb_model_set_tensor(int h, const char *key, const float *data, int n) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    gb_state_item item;
    GB_TRY(find_item(s, key, &item));
    if (!item.t) return gb_set_error(GB_ERR_ARG, "'%.80s' is an int64 counter, not a float tensor: it is not written here", key);
    if (n != item.t->numel || (!data && n)) {
        char shape[64];
        return gb_set_error(GB_ERR_SHAPE, "'%.80s' has shape torch.Size(%s), %d elements: got %d values", key,
                            gb_shape_str(item.t->ndim, item.t->shape, shape, sizeof shape), item.t->numel, n);
    }
    gb_graph_reset(&s->step);
    memcpy(item.t->data, data, sizeof(float) * (size_t)n);
    item.t->version++;
    return GB_OK;
}

// How many rows of the last loss_backward / step / head step had the target
// as their highest logit (the batch's training accuracy, before the update).
GB_API int gb_model_last_correct(int h) {
    model_slot *s = gb_model_slot_of(h);
    return s ? s->last_correct : -GB_ERR_BAD_HANDLE;
}

GB_API double gb_model_last_loss(int h) {
    model_slot *s = gb_model_slot_of(h);
    return s ? s->last_loss : 0.0 / 0.0;
}
