// gb_model_step_api.c: a model handle's forward and training steps: a
// per-step graph (activations from an arena reset every step), and the
// optimizer over whatever requires grad (gb_model_set_optimizer, or the SGD
// that gb_model_train_step makes). Validate, look up, forward.
#include <math.h>
#include <string.h>

#include "../nn/gb_finetune.h"
#include "../threads/gb_pool.h"
#include "gb_api.h"
#include "gb_model_slot.h"

typedef gb_model_slot model_slot;

static gb_status forward(model_slot *s, const float *x, int N, int H, int W, gb_tensor **logits) {
    if (N < 1 || H < 1 || W < 1 || (double)N * 3 * H * W > GB_MAX_INPUT_NUMEL)
        return gb_set_error(GB_ERR_SHAPE, "bad input shape (%d, 3, %d, %d)", N, H, W);
    gb_graph_reset(&s->step);
    int shape[4] = { N, 3, H, W };
    gb_tensor *in = gb_graph_tensor(&s->step, 4, shape);
    if (!in) return GB_ERR_NOMEM;
    memcpy(in->data, x, (size_t)in->numel * sizeof(float));
    return gb_resnet18_forward(&s->model, &s->step, in, logits);
}

// A new step's info (in s->pending until the step succeeds): what runs, on
// what; nothing measured yet.
static void step_begin(model_slot *s, const char *kind, int N, int H, int W) {
    s->pending = (gb_step_info){ .kind = kind, .shape = { N, 3, H, W }, .training = s->model.root->training,
                              .forward_ms = -1, .backward_ms = -1, .optimizer_ms = -1, .loss = NAN };
}

// The forward's part of the step info (after a successful forward).
static void step_forward_done(model_slot *s, double t0) {
    s->pending.forward_ms = gb_now_ms() - t0;
    s->pending.tape_nodes = s->step.n_nodes;
    s->pending.peak_bytes = (double)gb_graph_peak_bytes(&s->step);
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
    double t0 = gb_now_ms();
    s->step.grad_enabled = 0;
    gb_tensor *logits;
    gb_status st = forward(s, x, N, H, W, &logits);
    s->step.grad_enabled = 1;
    if (st != GB_OK) return st;
    memcpy(logits_out, logits->data, (size_t)logits->numel * sizeof(float));
    step_forward_done(s, t0);
    return step_done(s);
}

static gb_status loss_backward(model_slot *s, const float *x, int N, int H, int W, const int *targets) {
    gb_tensor *logits, *loss;
    double t0 = gb_now_ms();
    GB_TRY(forward(s, x, N, H, W, &logits));
    GB_TRY(gb_cross_entropy(&s->step, logits, targets, &loss));
    step_forward_done(s, t0);
    s->pending.loss = s->last_loss = loss->data[0];
    s->last_correct = gb_count_correct(logits, targets);
    gb_model_zero_grad(&s->model, 1);
    t0 = gb_now_ms();
    GB_TRY(gb_model_backward(&s->model, &s->step, loss));
    s->pending.backward_ms = gb_now_ms() - t0;
    s->pending.peak_bytes = (double)gb_graph_peak_bytes(&s->step);
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
