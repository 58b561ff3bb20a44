// gb_optim.h: torch.optim.SGD and torch.optim.Adam with PyTorch 1.13's update
// rules (the single-tensor, non-foreach code paths).
//
// As in torch, a step skips every parameter whose .grad is None (frozen
// parameters never get one), and state exists only for parameters that have
// had a gradient at some step: freezing the backbone costs no optimizer
// memory. The state lives in the optimizer's own arena.
#ifndef GB_OPTIM_H
#define GB_OPTIM_H

#include "../core/gb_tensor.h"

// The values are engine/api's GB_OPTIMIZER_SGD / _ADAM (gb_api.h), which JS passes.
typedef enum gb_optim_kind { GB_OPTIM_SGD = 0, GB_OPTIM_ADAM = 1 } gb_optim_kind;

// An optimizer's constructor arguments, as torch takes them; each kind reads its own.
typedef struct gb_optim_settings {
    gb_optim_kind kind;
    double lr, weight_decay;                        // both
    double momentum, dampening;                     // SGD
    int nesterov;
    double beta1, beta2, eps;                       // Adam
} gb_optim_settings;

// optimizer.state[p]
typedef struct gb_optim_state {
    int present;                  // p is a key of optimizer.state
    float *momentum_buffer;       // SGD with momentum: NULL until the first step
    float *exp_avg, *exp_avg_sq;  // Adam: first and second moments
    float step;                   // Adam: state['step'] (a float32 tensor in 1.13)
} gb_optim_state;

typedef struct gb_optimizer {
    gb_optim_kind kind;
    double lr, momentum, dampening, weight_decay;   // SGD (lr, weight_decay: both)
    int nesterov;
    double beta1, beta2, eps;                       // Adam
    gb_tensor **params;           // the parameter group, in the order given
    gb_optim_state *state;        // one per parameter
    int n_params;
    gb_arena arena;               // params list and state
} gb_optimizer;

// optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov).
// GB_ERR_ARG with torch's ValueError text for invalid settings.
gb_status gb_sgd_init(gb_optimizer *o, gb_tensor *const *params, int n, double lr, double momentum,
                      double dampening, double weight_decay, int nesterov);
// optim.Adam(params, lr, betas=(beta1, beta2), eps, weight_decay); amsgrad off.
gb_status gb_adam_init(gb_optimizer *o, gb_tensor *const *params, int n, double lr, double beta1,
                       double beta2, double eps, double weight_decay);
// optim.SGD or optim.Adam over params, as settings->kind says: the two
// constructors above, or GB_ERR_ARG for an unknown kind. On failure `o` is
// left empty (nothing to free).
gb_status gb_optim_new(gb_optimizer *o, const gb_optim_settings *settings, gb_tensor *const *params, int n);
// for g in optimizer.param_groups: g['lr'], g['momentum'], g['weight_decay']
// = lr, momentum, weight_decay (SGD): new values for the next steps; the
// state (momentum buffers) is kept.
void gb_sgd_set_group(gb_optimizer *o, double lr, double momentum, double weight_decay);
void gb_optim_free(gb_optimizer *o);

// optimizer.step(). GB_ERR_NOMEM if state cannot be allocated (the step is
// then not applied to any parameter).
gb_status gb_optim_step(gb_optimizer *o);
// fmaf(a, b, c), bit for bit, with the libm call only in rare cases (optim.c).
float gb_fma_f32(float a, float b, float c);
// The same on 4 lanes at once (out[i] = fmaf(a[i], b[i], c[i])), as SGD's steps run it.
void gb_fma4_f32(const float *a, const float *b, const float *c, float *out);
// optimizer.zero_grad(set_to_none): .grad = None, or zeros where there is one.
// NOTE: with set_to_none the .grad memory goes back to its arena only when
// nothing holds a .grad (see gb_model_backward).
void gb_optim_zero_grad(gb_optimizer *o, int set_to_none);
// len(optimizer.state), and the bytes its tensors take.
int gb_optim_state_count(const gb_optimizer *o);
size_t gb_optim_state_bytes(const gb_optimizer *o);

#endif
