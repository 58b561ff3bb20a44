// gb_model_api.c: the ResNet-18 lessons' exports: a model handle with its
// weights, its modes and its tensors. Validate, look up, forward.
// What a handle holds: gb_model_slot.h; forward and training steps:
// gb_model_step_api.c; fine-tuning's extras: gb_finetune_api.c; the reports
// on it: model_info.c.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/gb_state.h"
#include "../nn/io/gb_state_dict.h"
#include "gb_api.h"
#include "gb_model_slot.h"

#define MAX_MODELS 4

typedef gb_model_slot model_slot;

static model_slot *models[MAX_MODELS + 1];

gb_model_slot *gb_model_slot_of(int h) {
    if (h <= 0 || h > MAX_MODELS || !models[h]) {
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

GB_API int gb_model_new(int num_classes, double seed) {
    if (num_classes < 1 || num_classes > 100000) return -gb_set_error(GB_ERR_ARG, "num_classes must be 1..100000, not %d", num_classes);
    for (int h = 1; h <= MAX_MODELS; h++) {
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
    return -gb_set_error(GB_ERR_NOMEM, "too many models (at most %d)", MAX_MODELS);
}

GB_API void gb_model_free_handle(int h) {
    model_slot *s = gb_model_slot_of(h);
    if (!s) return;
    gb_model_slot_drop_optimizer(s);
    gb_graph_free(&s->step);
    gb_model_free(&s->model);
    gb_sb_free(&s->json);
    free(s->saved);
    free(s);
    models[h] = NULL;
}

// The format of a weights file, from its first bytes (magic numbers):
//   "PK\x03\x04"             a zip: PyTorch's .pth since 1.6
//   0x80, protocol <= 5       a bare pickle: the legacy (pre-1.6) .pth
//   byte 8 is '{'             safetensors: a u64 header length, then JSON
//   "\x89PNG\r\n\x1a\n", "\xff\xd8\xff", "GIF8"    a picture, not weights
// NOTE: the picture case only makes the message plainer (a learner who
// drops a photo on the weights box); anything unknown is refused either way.
typedef enum { FMT_UNKNOWN, FMT_PTH, FMT_LEGACY_PTH, FMT_SAFETENSORS, FMT_PNG, FMT_JPEG, FMT_GIF } weights_format;

static weights_format sniff(const uint8_t *b, size_t n) {
    if (n >= 4 && memcmp(b, "PK\x03\x04", 4) == 0) return FMT_PTH;
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) return FMT_PNG;
    if (n >= 3 && memcmp(b, "\xff\xd8\xff", 3) == 0) return FMT_JPEG;
    if (n >= 4 && memcmp(b, "GIF8", 4) == 0) return FMT_GIF;
    if (n >= 2 && b[0] == 0x80 && b[1] <= 5) return FMT_LEGACY_PTH;
    if (n >= 9 && b[8] == '{') return FMT_SAFETENSORS;
    return FMT_UNKNOWN;
}

static gb_status read_weights(weights_format f, const uint8_t *buf, size_t n, gb_state_dict *sd) {
    static const char *const pictures[] = { [FMT_PNG] = "PNG", [FMT_JPEG] = "JPEG", [FMT_GIF] = "GIF" };
    switch (f) {
    case FMT_PTH: return gb_pth_read(buf, n, sd);
    case FMT_SAFETENSORS: return gb_safetensors_read(buf, n, sd);
    case FMT_LEGACY_PTH:
        return gb_set_error(GB_ERR_FORMAT, "this .pth is in PyTorch's legacy (pre-1.6) format, which is not "
                                           "read here: re-save it with torch.save(model.state_dict(), f) in "
                                           "PyTorch 1.6 or later (the zip format)");
    case FMT_PNG: case FMT_JPEG: case FMT_GIF:
        return gb_set_error(GB_ERR_FORMAT, "this is a %s image, not a weights file: expected a PyTorch .pth (zip) "
                                           "or a .safetensors file", pictures[f]);
    default:
        return gb_set_error(GB_ERR_FORMAT, "not a weights file: expected a PyTorch .pth (zip) or a .safetensors file");
    }
}

gb_status gb_weights_read(const uint8_t *buf, size_t n, gb_state_dict *sd, const char **format) {
    weights_format f = sniff(buf, n);
    if (format) *format = f == FMT_PTH ? "pth" : "safetensors";
    return read_weights(f, buf, n, sd);
}

// Reads .safetensors or PyTorch .pth (zip) bytes and loads them with
// load_state_dict(strict=True) semantics; the message says what did not fit.
// A failed load changes nothing: not the weights (gb_state.h: all or
// nothing), not the load info (tests/resnet/frozen.test.mjs, "load report").
GB_API int gb_model_load(int h, const uint8_t *buf, double len) {
    model_slot *s = gb_model_slot_of(h);   // no init: the file replaces every value
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!buf || len < 0) return gb_set_error(GB_ERR_ARG, "no weights given");
    gb_state_dict sd;
    memset(&sd, 0, sizeof sd);
    const char *format;
    gb_status st = gb_weights_read(buf, (size_t)len, &sd, &format);
    if (st == GB_OK) {
        static char report[16384];   // as long as an error message may be (core/status.c)
        gb_graph_reset(&s->step);   // no graph may point at the old weights
        st = gb_module_load_state_dict(s->model.root, "ResNet", &sd, report, sizeof report);
    }
    if (st == GB_OK) {
        s->load = (gb_load_info){ .format = format, .keys = sd.n };
        s->init_pending = 0;
    }
    gb_sd_free(&sd);
    return st;
}

// model.state_dict() written as safetensors (format 0) or .pth (format 1);
// the bytes stay valid until the next save. Returns the length, or -status.
GB_API double gb_model_save(int h, int format, uint8_t **out) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return -GB_ERR_BAD_HANDLE;
    gb_state_dict sd;
    memset(&sd, 0, sizeof sd);
    size_t len = 0;
    uint8_t *bytes = NULL;
    gb_status st = gb_module_state_dict(s->model.root, &sd);
    if (st == GB_OK) st = format == 1 ? gb_pth_write(&sd, &bytes, &len) : gb_safetensors_write(&sd, &bytes, &len);
    gb_sd_free(&sd);
    if (st != GB_OK) return -(double)st;
    free(s->saved);
    s->saved = bytes;
    *out = bytes;
    return (double)len;
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
    if (num_classes < 1 || num_classes > 100000) return gb_set_error(GB_ERR_ARG, "num_classes must be 1..100000, not %d", num_classes);
    gb_model_slot_drop_optimizer(s);
    gb_graph_reset(&s->step);
    return gb_resnet18_replace_fc(&s->model, num_classes, NULL, (uint64_t)seed);
}

// The state_dict entry called `key`, or GB_ERR_NAME.
static gb_status find_item(model_slot *s, const char *key, gb_state_item *out) {
    gb_state_item items[160];
    int n = gb_module_state_items(s->model.root, 1, items, 160);
    GB_ASSERT(n <= 160, "resnet18 has 122 state_dict entries, not %d", n);
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
