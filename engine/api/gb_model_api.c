// gb_model_api.c: the ResNet-18 lessons' exports: a model handle with its
// weights, a per-step graph (activations from an arena reset every step), and
// an SGD optimizer over whatever requires grad. Validate, look up, forward.
#include <stdlib.h>
#include <string.h>

#include "../nn/gb_optim.h"
#include "../nn/gb_resnet18.h"
#include "../nn/gb_state.h"
#include "../nn/io/gb_state_dict.h"
#include "gb_api.h"

#define MAX_MODELS 4

typedef struct model_slot {
    gb_model model;
    gb_graph step;            // one forward (+ backward); reset at the next
    gb_optimizer opt;
    int has_opt;
    float last_loss;
    gb_sb json;
    uint8_t *saved;           // the last gb_model_save output
} model_slot;

static model_slot *models[MAX_MODELS + 1];

static model_slot *lookup_model(int h) {
    if (h <= 0 || h > MAX_MODELS || !models[h]) {
        gb_set_error(GB_ERR_BAD_HANDLE, "no model %d", h);
        return NULL;
    }
    return models[h];
}

static void drop_optimizer(model_slot *s) {
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
        if (st == GB_OK) st = gb_resnet18_init(&s->model, NULL, (uint64_t)seed);
        if (st != GB_OK) { free(s); return -st; }
        gb_graph_init(&s->step);
        s->step.lean = 1;   // a step keeps only what its backward reads
        gb_sb_init(&s->json);
        gb_module_train(s->model.root, 0);
        models[h] = s;
        return h;
    }
    return -gb_set_error(GB_ERR_NOMEM, "too many models (at most %d)", MAX_MODELS);
}

GB_API void gb_model_free_handle(int h) {
    model_slot *s = lookup_model(h);
    if (!s) return;
    drop_optimizer(s);
    gb_graph_free(&s->step);
    gb_model_free(&s->model);
    gb_sb_free(&s->json);
    free(s->saved);
    free(s);
    models[h] = NULL;
}

// Reads .safetensors or PyTorch .pth (zip) bytes and loads them with
// load_state_dict(strict=True) semantics; the message says what did not fit.
GB_API int gb_model_load(int h, const uint8_t *buf, double len) {
    model_slot *s = lookup_model(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!buf || len < 0) return gb_set_error(GB_ERR_ARG, "no weights given");
    gb_state_dict sd;
    memset(&sd, 0, sizeof sd);
    size_t n = (size_t)len;
    gb_status st;
    if (n >= 4 && memcmp(buf, "PK\x03\x04", 4) == 0) st = gb_pth_read(buf, n, &sd);
    else if (n >= 2 && buf[0] == 0x80 && buf[1] <= 5)   // a bare pickle: torch.save before 1.6
        st = gb_set_error(GB_ERR_FORMAT, "this .pth is in PyTorch's legacy (pre-1.6) format, which is not "
                                         "read here: re-save it with torch.save(model.state_dict(), f) in "
                                         "PyTorch 1.6 or later (the zip format)");
    else if (n >= 9 && buf[8] == '{') st = gb_safetensors_read(buf, n, &sd);
    else st = gb_set_error(GB_ERR_FORMAT, "not a weights file: expected a PyTorch .pth (zip) or a .safetensors file");
    if (st == GB_OK) {
        static char report[4096];
        gb_graph_reset(&s->step);   // no graph may point at the old weights
        st = gb_module_load_state_dict(s->model.root, "ResNet", &sd, report, sizeof report);
    }
    gb_sd_free(&sd);
    return st;
}

// model.state_dict() written as safetensors (format 0) or .pth (format 1);
// the bytes stay valid until the next save. Returns the length, or -status.
GB_API double gb_model_save(int h, int format, uint8_t **out) {
    model_slot *s = lookup_model(h);
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
    model_slot *s = lookup_model(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    drop_optimizer(s);   // its parameter list follows requires_grad
    return gb_module_set_requires_grad(s->model.root, path ? path : "", on != 0);
}

GB_API int gb_model_train_mode(int h, int on) {
    model_slot *s = lookup_model(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    gb_module_train(s->model.root, on != 0);
    return GB_OK;
}

GB_API int gb_model_replace_fc(int h, int num_classes, double seed) {
    model_slot *s = lookup_model(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (num_classes < 1 || num_classes > 100000) return gb_set_error(GB_ERR_ARG, "num_classes must be 1..100000, not %d", num_classes);
    drop_optimizer(s);
    gb_graph_reset(&s->step);
    return gb_resnet18_replace_fc(&s->model, num_classes, NULL, (uint64_t)seed);
}

static gb_status forward(model_slot *s, const float *x, int N, int H, int W, gb_tensor **logits) {
    if (N < 1 || H < 1 || W < 1 || (double)N * 3 * H * W > (1 << 28))
        return gb_set_error(GB_ERR_SHAPE, "bad input shape (%d, 3, %d, %d)", N, H, W);
    gb_graph_reset(&s->step);
    int shape[4] = { N, 3, H, W };
    gb_tensor *in = gb_graph_tensor(&s->step, 4, shape);
    if (!in) return GB_ERR_NOMEM;
    memcpy(in->data, x, (size_t)in->numel * sizeof(float));
    return gb_resnet18_forward(&s->model, &s->step, in, logits);
}

// logits = model(x) under torch.no_grad(); x (N, 3, H, W) float32, logits_out
// (N, num_classes).
GB_API int gb_model_forward(int h, const float *x, int N, int H, int W, float *logits_out) {
    model_slot *s = lookup_model(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!x || !logits_out) return gb_set_error(GB_ERR_ARG, "gb_model_forward: missing buffer");
    s->step.grad_enabled = 0;
    gb_tensor *logits;
    gb_status st = forward(s, x, N, H, W, &logits);
    s->step.grad_enabled = 1;
    if (st != GB_OK) return st;
    memcpy(logits_out, logits->data, (size_t)logits->numel * sizeof(float));
    return GB_OK;
}

// loss = cross_entropy(model(x), targets); model.zero_grad(set_to_none=True);
// loss.backward(). The .grad of every parameter that requires grad is then
// readable with gb_model_tensor; the rest have none.
GB_API int gb_model_loss_backward(int h, const float *x, int N, int H, int W, const int *targets) {
    model_slot *s = lookup_model(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!x || !targets) return gb_set_error(GB_ERR_ARG, "gb_model_loss_backward: missing buffer");
    gb_tensor *logits, *loss;
    GB_TRY(forward(s, x, N, H, W, &logits));
    GB_TRY(gb_cross_entropy(&s->step, logits, targets, &loss));
    s->last_loss = loss->data[0];
    gb_model_zero_grad(&s->model, 1);
    return gb_model_backward(&s->model, &s->step, loss);
}

// One training step: gb_model_loss_backward, then optimizer.step() with
// SGD(lr, momentum, weight_decay) over the parameters that require grad (the
// optimizer is made on the first step and kept, with its momentum, until
// requires_grad or the head changes).
GB_API int gb_model_train_step(int h, const float *x, int N, int H, int W, const int *targets,
                               double lr, double momentum, double weight_decay) {
    model_slot *s = lookup_model(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!s->has_opt) {
        gb_tensor *params[128];
        int n = gb_module_parameters(s->model.root, params, 128), k = 0;
        for (int i = 0; i < n; i++)
            if (params[i]->flags & GB_REQUIRES_GRAD) params[k++] = params[i];
        GB_TRY(gb_sgd_init(&s->opt, params, k, lr, momentum, 0, weight_decay, 0));
        s->has_opt = 1;
    }
    s->opt.lr = lr;
    s->opt.momentum = momentum;
    s->opt.weight_decay = weight_decay;
    GB_TRY(gb_model_loss_backward(h, x, N, H, W, targets));
    return gb_optim_step(&s->opt);
}

// A state_dict entry's values (grad 0) or its .grad (grad 1) by key:
// *out points at them (NULL when there is no .grad); returns the element
// count, or -status for an unknown key. num_batches_tracked is not a float
// tensor: read it from gb_model_save.
GB_API int gb_model_tensor(int h, const char *key, int grad, float **out) {
    model_slot *s = lookup_model(h);
    if (!s) return -GB_ERR_BAD_HANDLE;
    gb_state_item items[160];
    int n = gb_module_state_items(s->model.root, 0, items, 160);
    for (int i = 0; i < n; i++) {
        if (strcmp(items[i].key, key) != 0) continue;
        *out = grad ? items[i].t->grad : items[i].t->data;
        return items[i].t->numel;
    }
    return -gb_set_error(GB_ERR_NAME, "no tensor '%.80s' in the state_dict", key);
}

GB_API double gb_model_last_loss(int h) {
    model_slot *s = lookup_model(h);
    return s ? s->last_loss : 0.0 / 0.0;
}

// {"repr": print(model), "tree": the module tree with shapes and counts}.
GB_API const char *gb_model_json(int h) {
    model_slot *s = lookup_model(h);
    if (!s) return NULL;
    gb_sb_clear(&s->json);
    gb_sb repr;
    gb_sb_init(&repr);
    gb_module_repr(s->model.root, &repr);
    gb_sb_puts(&s->json, "{\"repr\": ");
    gb_sb_json_string(&s->json, gb_sb_str(&repr));
    gb_sb_free(&repr);
    gb_sb_puts(&s->json, ", \"tree\": ");
    gb_module_json(s->model.root, &s->json);
    gb_sb_printf(&s->json, ", \"arena_bytes\": %.0f, \"step_peak_bytes\": %.0f}",
                 (double)(gb_arena_capacity(&s->model.arena) + gb_arena_capacity(&s->model.head_arena) +
                          gb_arena_capacity(&s->model.grad_arena)),
                 (double)gb_graph_peak_bytes(&s->step));
    return s->json.failed ? NULL : gb_sb_str(&s->json);
}
