// gb_model_step_api.c: a model handle's forward and training steps: a
// planned step graph (core/gb_plan.h: the first step of a kind measures, the
// next ones run in the planned arena), and the optimizer over whatever
// requires grad (gb_model_set_optimizer, or the SGD that gb_model_train_step
// makes). Validate, look up, forward.
#include <math.h>
#include <string.h>

#include "../nn/gb_finetune.h"
#include "../threads/gb_pool.h"
#include "gb_api.h"
#include "gb_model_slot.h"

typedef gb_model_slot model_slot;

static void mix(uint64_t *h, uint64_t v) { *h = (*h ^ v) * 0x100000001b3u; }   // FNV-1a's step

static void key_module(gb_module *m, void *ctx) {
    mix(ctx, (uint64_t)m->training);
    for (int i = 0; i < m->n_params; i++) {
        mix(ctx, (uint64_t)(uintptr_t)m->params[i]);
        mix(ctx, m->params[i]->flags & (GB_REQUIRES_GRAD | GB_NEEDS_GRAD));
    }
}

uint64_t gb_model_step_key(gb_model_slot *s, int kind, int N, int H, int W) {
    uint64_t h = 0xcbf29ce484222325u;
    mix(&h, (uint64_t)kind);
    mix(&h, (uint64_t)N);
    mix(&h, (uint64_t)H);
    mix(&h, (uint64_t)W);
    gb_module_walk(s->model.root, key_module, &h);
    return h;
}

// One step's calls, run by gb_graph_run_planned (twice the first time: the
// plan pass changes nothing but through the ops).
typedef struct step_call {
    model_slot *s;
    const float *x;
    int N, H, W;
    const int *targets;           // NULL: a forward only
    gb_tensor *logits, *loss;
} step_call;

static gb_status step_body(gb_graph *g, void *ctx) {
    step_call *c = ctx;
    model_slot *s = c->s;
    double t0 = gb_now_ms();
    int shape[4] = { c->N, 3, c->H, c->W };
    gb_tensor *in = gb_graph_tensor(g, 4, shape);
    if (!in) return GB_ERR_NOMEM;
    if (!gb_graph_measuring(g)) memcpy(in->data, c->x, (size_t)in->numel * sizeof(float));
    GB_TRY(gb_resnet18_forward(&s->model, g, in, &c->logits));
    gb_graph_keep(g, c->logits);
    if (c->targets) {
        GB_TRY(gb_cross_entropy(g, c->logits, c->targets, &c->loss));
        gb_graph_keep(g, c->loss);
    }
    s->pending.forward_ms = gb_now_ms() - t0;
    s->pending.tape_nodes = g->n_nodes;
    if (!c->targets) return GB_OK;
    gb_model_zero_grad(&s->model, 1);
    t0 = gb_now_ms();
    GB_TRY(gb_model_backward(&s->model, g, c->loss));
    s->pending.backward_ms = gb_now_ms() - t0;
    return GB_OK;
}

static gb_status run_step_graph(step_call *c, int kind) {
    if (c->N < 1 || c->H < 1 || c->W < 1 || (double)c->N * 3 * c->H * c->W > GB_MAX_INPUT_NUMEL)
        return gb_set_error(GB_ERR_SHAPE, "bad input shape (%d, 3, %d, %d)", c->N, c->H, c->W);
    model_slot *s = c->s;
    GB_TRY(gb_graph_run_planned(&s->step, gb_model_step_key(s, kind, c->N, c->H, c->W), step_body, c));
    s->pending.peak_bytes = (double)gb_graph_peak_bytes(&s->step);
    s->pending.graph_bytes = (double)s->step.arena.peak;
    s->pending.plan_bytes = (double)s->step.act_peak;
    s->pending.scratch_bytes = (double)s->step.scratch_bytes;
    return GB_OK;
}

// A new step's info (in s->pending until the step succeeds): what runs, on
// what; nothing measured yet.
static void step_begin(model_slot *s, const char *kind, int N, int H, int W) {
    s->pending = (gb_step_info){ .kind = kind, .shape = { N, 3, H, W }, .training = s->model.root->training,
                              .forward_ms = -1, .backward_ms = -1, .optimizer_ms = -1, .loss = NAN };
}

// The step succeeded: its info becomes what gb_model_step_info reports.
static gb_status step_done(model_slot *s) {
    gb_step_info_collect(s);
    s->info = s->pending;
    return GB_OK;
}

// logits = model(x) under torch.no_grad(); x (N, 3, H, W) float32, logits_out
// (N, num_classes).
GB_API int gb_model_forward(int h, const float *x, int N, int H, int W, float *logits_out) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!x || !logits_out) return gb_set_error(GB_ERR_ARG, "gb_model_forward: missing buffer");
    step_begin(s, "forward", N, H, W);
    step_call c = { .s = s, .x = x, .N = N, .H = H, .W = W };
    s->step.grad_enabled = 0;
    gb_status st = run_step_graph(&c, GB_STEP_FORWARD);
    s->step.grad_enabled = 1;
    if (st != GB_OK) return st;
    memcpy(logits_out, c.logits->data, (size_t)c.logits->numel * sizeof(float));
    return step_done(s);
}

static gb_status loss_backward(model_slot *s, const float *x, int N, int H, int W, const int *targets) {
    step_call c = { .s = s, .x = x, .N = N, .H = H, .W = W, .targets = targets };
    GB_TRY(run_step_graph(&c, GB_STEP_LOSS_BACKWARD));
    s->pending.loss = s->last_loss = c.loss->data[0];
    s->last_correct = gb_count_correct(c.logits, targets);
    return GB_OK;
}

// loss = cross_entropy(model(x), targets); model.zero_grad(set_to_none=True);
// loss.backward(). The .grad of every parameter that requires grad is then
// readable with gb_model_tensor; the rest have none.
GB_API int gb_model_loss_backward(int h, const float *x, int N, int H, int W, const int *targets) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!x || !targets) return gb_set_error(GB_ERR_ARG, "gb_model_loss_backward: missing buffer");
    step_begin(s, "loss_backward", N, H, W);
    GB_TRY(loss_backward(s, x, N, H, W, targets));
    return step_done(s);
}

// optimizer.zero_grad(); loss = cross_entropy(model(x), targets);
// loss.backward(); optimizer.step(), with s->opt.
static gb_status run_step(model_slot *s, const float *x, int N, int H, int W, const int *targets) {
    step_begin(s, "train_step", N, H, W);
    GB_TRY(loss_backward(s, x, N, H, W, targets));
    double t0 = gb_now_ms();
    GB_TRY(gb_optim_step(&s->opt));
    s->pending.optimizer_ms = gb_now_ms() - t0;
    return step_done(s);
}

_Static_assert(GB_OPTIMIZER_SGD == (int)GB_OPTIM_SGD && GB_OPTIMIZER_ADAM == (int)GB_OPTIM_ADAM,
               "gb_api.h's optimizer codes are engine/nn's kinds");

#define MAX_PARAMS 128   // resnet18 has 62 parameter tensors

// A fresh optimizer over the parameters that require grad now, in
// model.parameters() order: GB_OPTIMIZER_SGD is optim.SGD(params, lr,
// momentum, dampening, weight_decay, nesterov), GB_OPTIMIZER_ADAM
// optim.Adam(params, lr, betas=(beta1, beta2), eps, weight_decay). Torch's
// ValueError texts for bad values; a refused one leaves the model without an
// optimizer. Changing requires_grad or the head drops it (its parameter list
// would be stale).
GB_API int gb_model_set_optimizer(int h, int kind, double lr, double momentum, double dampening,
                                  double weight_decay, int nesterov, double beta1, double beta2, double eps) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    gb_model_slot_drop_optimizer(s);
    gb_tensor *params[MAX_PARAMS];
    int n = gb_model_trainable(&s->model, params, MAX_PARAMS);
    const gb_optim_settings settings = { .kind = (gb_optim_kind)kind, .lr = lr, .weight_decay = weight_decay,
                                         .momentum = momentum, .dampening = dampening, .nesterov = nesterov,
                                         .beta1 = beta1, .beta2 = beta2, .eps = eps };
    GB_TRY(gb_optim_new(&s->opt, &settings, params, n));
    s->has_opt = 1;
    return GB_OK;
}

// One training step with the optimizer of gb_model_set_optimizer.
GB_API int gb_model_step(int h, const float *x, int N, int H, int W, const int *targets) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!x || !targets) return gb_set_error(GB_ERR_ARG, "gb_model_step: missing buffer");
    if (!s->has_opt) return gb_set_error(GB_ERR_ARG, "no optimizer: set one first (model.setOptimizer), and again "
                                                     "after requires_grad or the head changes");
    return run_step(s, x, N, H, W, targets);
}

// One training step with SGD(lr, momentum, weight_decay) over the parameters
// that require grad: the lesson's call. The SGD is made on the first step
// and kept, with its momentum, until requires_grad or the head changes (or
// another optimizer is set).
GB_API int gb_model_train_step(int h, const float *x, int N, int H, int W, const int *targets,
                               double lr, double momentum, double weight_decay) {
    model_slot *s = gb_model_slot_ready(h);
    if (!s) return GB_ERR_BAD_HANDLE;
    if (!x || !targets) return gb_set_error(GB_ERR_ARG, "gb_model_train_step: missing buffer");
    if (!s->has_opt || s->opt.kind != GB_OPTIM_SGD)
        GB_TRY(gb_model_set_optimizer(h, GB_OPTIMIZER_SGD, lr, momentum, 0, weight_decay, 0, 0, 0, 0));
    gb_sgd_set_group(&s->opt, lr, momentum, weight_decay);
    return run_step(s, x, N, H, W, targets);
}
