// optim.c: SGD and Adam, torch 1.13's _single_tensor_sgd / _single_tensor_adam.
//
// Python scalars (lr, momentum...) enter the tensor ops rounded to float, as
// torch's CPU kernels take them; "x.add_(y, alpha=a)" is one fused a·y + x,
// as torch's AVX2 kernels (vec::fmadd) compute it. The bias corrections of
// Adam are Python floats (double), computed from the float32 step count.
#include "gb_optim.h"

#include "../kernels/gb_simd128.h"
#include "../threads/gb_pool.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

// a·b + c rounded once, as fmaf, without a libm call in the common case
// (wasm has no FMA instruction; a full ResNet step makes 23 million of
// these). a·b is exact in double, so the double sum is off only by its own
// rounding, and rounding it on to float gives the correctly rounded result
// unless it sits exactly on a float halfway point (low 29 bits 1000…0) or in
// float's subnormal range: those rare cases go to fmaf. Same bits as fmaf.
static inline __attribute__((always_inline)) float fma_f32(float a, float b, float c) {
    const double r = (double)a * b + c;
    uint64_t bits;
    memcpy(&bits, &r, sizeof bits);
    const unsigned e = (unsigned)(bits >> 52) & 0x7ff;
    if (e == 0x7ff || (e >= 0x3ff - 126 && (bits & 0x1fffffff) != 0x10000000)) return (float)r;
    return fmaf(a, b, c);
}

float gb_fma_f32(float a, float b, float c) { return fma_f32(a, b, c); }

// The same on 4 lanes, in two f64x2 halves: when every lane's double sum
// rounds once (the test of fma_f32), the 4 roundings to float are two
// f32x4.demote_f64x2_zero and a shuffle; otherwise (rare) each lane goes
// through fma_f32. tests/native/test_nn_optim.c checks gb_fma4_f32 against fmaf.

// All ones in a 64-bit lane where fma_f32 returns (float)r: the exponent
// e = bits >> 52 & 0x7ff and the low 29 bits, as in fma_f32.
static inline v128_t rounds_once(v128_t r) {
    const v128_t e = wasm_v128_and(wasm_u64x2_shr(r, 52), wasm_i64x2_splat(0x7ff));
    const v128_t low = wasm_v128_and(r, wasm_i64x2_splat(0x1fffffff));
    return wasm_v128_or(wasm_i64x2_eq(e, wasm_i64x2_splat(0x7ff)),
                        wasm_v128_and(wasm_i64x2_ge(e, wasm_i64x2_splat(0x3ff - 126)),
                                      wasm_i64x2_ne(low, wasm_i64x2_splat(0x10000000))));
}

// a·b + c in double for lanes 0, 1 of a, b and c (f64x2.promote_low_f32x4).
static inline v128_t mul_add_f64x2(v128_t a, v128_t b, v128_t c) {
    return wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(a), wasm_f64x2_promote_low_f32x4(b)),
                          wasm_f64x2_promote_low_f32x4(c));
}

static inline __attribute__((always_inline)) v128_t fma4_f32(v128_t a, v128_t b, v128_t c) {
    const v128_t lo = mul_add_f64x2(a, b, c);
    const v128_t hi = mul_add_f64x2(wasm_i32x4_shuffle(a, a, 2, 3, 2, 3), wasm_i32x4_shuffle(b, b, 2, 3, 2, 3),
                                    wasm_i32x4_shuffle(c, c, 2, 3, 2, 3));
    if (wasm_i64x2_all_true(wasm_v128_and(rounds_once(lo), rounds_once(hi))))
        return wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(lo), wasm_f32x4_demote_f64x2_zero(hi), 0, 1, 4, 5);
    return wasm_f32x4_make(fma_f32(wasm_f32x4_extract_lane(a, 0), wasm_f32x4_extract_lane(b, 0), wasm_f32x4_extract_lane(c, 0)),
                           fma_f32(wasm_f32x4_extract_lane(a, 1), wasm_f32x4_extract_lane(b, 1), wasm_f32x4_extract_lane(c, 1)),
                           fma_f32(wasm_f32x4_extract_lane(a, 2), wasm_f32x4_extract_lane(b, 2), wasm_f32x4_extract_lane(c, 2)),
                           fma_f32(wasm_f32x4_extract_lane(a, 3), wasm_f32x4_extract_lane(b, 3), wasm_f32x4_extract_lane(c, 3)));
}

void gb_fma4_f32(const float *a, const float *b, const float *c, float *out) {
    wasm_v128_store(out, fma4_f32(wasm_v128_load(a), wasm_v128_load(b), wasm_v128_load(c)));
}

static gb_status init_common(gb_optimizer *o, gb_optim_kind kind, gb_tensor *const *params, int n, double lr,
                             double weight_decay) {
    memset(o, 0, sizeof *o);
    if (n <= 0) return gb_set_error(GB_ERR_ARG, "optimizer got an empty parameter list");
    if (!(lr >= 0)) return gb_set_error(GB_ERR_ARG, "Invalid learning rate: %g", lr);
    if (!(weight_decay >= 0)) return gb_set_error(GB_ERR_ARG, "Invalid weight_decay value: %g", weight_decay);
    gb_arena_init(&o->arena, 1u << 20);
    o->params = gb_arena_alloc(&o->arena, sizeof(gb_tensor *) * (size_t)n);
    o->state = gb_arena_alloc(&o->arena, sizeof(gb_optim_state) * (size_t)n);
    if (!o->params || !o->state) {
        gb_arena_free(&o->arena);
        return gb_set_error(GB_ERR_NOMEM, "out of memory for the optimizer");
    }
    memcpy(o->params, params, sizeof(gb_tensor *) * (size_t)n);
    o->n_params = n;
    o->kind = kind;
    o->lr = lr;
    o->weight_decay = weight_decay;
    return GB_OK;
}

gb_status gb_sgd_init(gb_optimizer *o, gb_tensor *const *params, int n, double lr, double momentum,
                      double dampening, double weight_decay, int nesterov) {
    memset(o, 0, sizeof *o);
    if (!(momentum >= 0)) return gb_set_error(GB_ERR_ARG, "Invalid momentum value: %g", momentum);
    if (nesterov && (momentum <= 0 || dampening != 0))
        return gb_set_error(GB_ERR_ARG, "Nesterov momentum requires a momentum and zero dampening");
    GB_TRY(init_common(o, GB_OPTIM_SGD, params, n, lr, weight_decay));
    o->momentum = momentum;
    o->dampening = dampening;
    o->nesterov = nesterov != 0;
    return GB_OK;
}

gb_status gb_adam_init(gb_optimizer *o, gb_tensor *const *params, int n, double lr, double beta1,
                       double beta2, double eps, double weight_decay) {
    memset(o, 0, sizeof *o);
    if (!(eps >= 0)) return gb_set_error(GB_ERR_ARG, "Invalid epsilon value: %g", eps);
    if (!(beta1 >= 0 && beta1 < 1)) return gb_set_error(GB_ERR_ARG, "Invalid beta parameter at index 0: %g", beta1);
    if (!(beta2 >= 0 && beta2 < 1)) return gb_set_error(GB_ERR_ARG, "Invalid beta parameter at index 1: %g", beta2);
    GB_TRY(init_common(o, GB_OPTIM_ADAM, params, n, lr, weight_decay));
    o->beta1 = beta1;
    o->beta2 = beta2;
    o->eps = eps;
    return GB_OK;
}

gb_status gb_optim_new(gb_optimizer *o, const gb_optim_settings *c, gb_tensor *const *params, int n) {
    switch (c->kind) {
    case GB_OPTIM_SGD:
        return gb_sgd_init(o, params, n, c->lr, c->momentum, c->dampening, c->weight_decay, c->nesterov);
    case GB_OPTIM_ADAM:
        return gb_adam_init(o, params, n, c->lr, c->beta1, c->beta2, c->eps, c->weight_decay);
    default:
        memset(o, 0, sizeof *o);
        return gb_set_error(GB_ERR_ARG, "unknown optimizer %d (%d SGD, %d Adam)", (int)c->kind, GB_OPTIM_SGD,
                            GB_OPTIM_ADAM);
    }
}

void gb_sgd_set_group(gb_optimizer *o, double lr, double momentum, double weight_decay) {
    GB_ASSERT(o->kind == GB_OPTIM_SGD, "an SGD's param group");
    o->lr = lr;
    o->momentum = momentum;
    o->weight_decay = weight_decay;
}

void gb_optim_free(gb_optimizer *o) {
    gb_arena_free(&o->arena);
    memset(o, 0, sizeof *o);
}

// Allocates what a step will need for every parameter that has a grad, so
// that running out of memory leaves all parameters untouched.
static gb_status ensure_state(gb_optimizer *o) {
    for (int i = 0; i < o->n_params; i++) {
        gb_tensor *p = o->params[i];
        gb_optim_state *s = &o->state[i];
        if (!p->grad) continue;
        size_t bytes = sizeof(float) * (size_t)p->numel;
        if (o->kind == GB_OPTIM_SGD && o->momentum != 0 && !s->momentum_buffer) {
            if (!(s->momentum_buffer = gb_arena_alloc(&o->arena, bytes))) goto oom;
        } else if (o->kind == GB_OPTIM_ADAM && !s->exp_avg) {
            // torch.zeros_like(p, memory_format=torch.preserve_format)
            if (!(s->exp_avg = gb_arena_alloc(&o->arena, bytes))) goto oom;
            if (!(s->exp_avg_sq = gb_arena_alloc(&o->arena, bytes))) goto oom;
        }
    }
    return GB_OK;
oom:
    return gb_set_error(GB_ERR_NOMEM, "out of memory for the optimizer state");
}

// One SGD update of p (n values):
//   d_p = grad + wd·p
//   buf = d_p (first step)  |  buf = momentum·buf + (1 − dampening)·d_p
//   d_p = d_p + momentum·buf (nesterov)  |  d_p = buf
//   p  -= lr·d_p
// Every element on its own, so the threads of the pool split the range, and
// 4 elements go at once (fma4_f32: the same bits as one by one).
typedef struct sgd_job {
    const gb_optimizer *o;
    float *p, *buf;
    const float *grad;
    int first, n;
    gb_take_counter taken;   // chunks taken so far (gb_pool_take)
} sgd_job;

static void sgd_task(void *ctx, int ith, int nth) {
    sgd_job *j = ctx;
    const gb_optimizer *o = j->o;
    const float wd = (float)o->weight_decay, momentum = (float)o->momentum;
    const float keep = (float)(1 - o->dampening), neg_lr = (float)-o->lr;
    float *p = j->p, *buf = j->buf;
    const float *grad = j->grad;
    const int first = j->first;
    int lo, hi;
    const v128_t vwd = wasm_f32x4_splat(wd), vmomentum = wasm_f32x4_splat(momentum);
    const v128_t vkeep = wasm_f32x4_splat(keep), vneg_lr = wasm_f32x4_splat(neg_lr);
    // Without dampening (the default), buf·momentum + 1·d_p rounded once is
    // the float sum d_p + buf·momentum (1·d_p is exact): a plain add, the
    // same bits, for one of the update's two emulated fmas (the update took
    // ~8 ns a value with both, on this machine's 1 thread; a plain one ~1.2).
    const int keep_is_one = keep == 1.0f;
    while (gb_pool_take(&j->taken, j->n, ith, nth, &lo, &hi)) {
        int i = lo;
        for (; i + 4 <= hi; i += 4) {
            const v128_t vg = wasm_v128_load(grad + i), vp = wasm_v128_load(p + i);
            v128_t vd_p = o->weight_decay != 0 ? fma4_f32(vwd, vp, vg) : vg;
            if (buf) {
                v128_t vb = vd_p;   // the first step: buf = d_p (buf is not read)
                if (!first) {
                    const v128_t vm = wasm_f32x4_mul(wasm_v128_load(buf + i), vmomentum);
                    vb = keep_is_one ? wasm_f32x4_add(vd_p, vm) : fma4_f32(vkeep, vd_p, vm);
                }
                wasm_v128_store(buf + i, vb);
                vd_p = o->nesterov ? fma4_f32(vmomentum, vb, vd_p) : vb;
            }
            wasm_v128_store(p + i, fma4_f32(vneg_lr, vd_p, vp));
        }
        for (; i < hi; i++) {
            float d_p = o->weight_decay != 0 ? fma_f32(wd, p[i], grad[i]) : grad[i];
            if (buf) {
                float b = d_p;   // the first step: buf = d_p (buf is not read)
                if (!first) {
                    const float m = buf[i] * momentum;
                    b = keep_is_one ? d_p + m : fma_f32(keep, d_p, m);
                }
                buf[i] = b;
                d_p = o->nesterov ? fma_f32(momentum, b, d_p) : b;
            }
            p[i] = fma_f32(neg_lr, d_p, p[i]);
        }
    }
}

static void sgd_update(const gb_optimizer *o, gb_optim_state *s, int first, float *p, const float *grad, int n) {
    sgd_job j = { o, p, s->momentum_buffer, grad, first, n, 0 };
    if (n < 4096) sgd_task(&j, 0, 1);   // a BatchNorm's 64 values: not worth waking threads
    else gb_parallel_for(sgd_task, &j);
}

// One Adam update of p, after step += 1:
//   g   = grad + wd·p
//   m   = β1·m + (1 − β1)·g               v = β2·v + (1 − β2)·g²
//   p  -= lr / (1 − β1^t) · m / (sqrt(v) / sqrt(1 − β2^t) + eps)
static void adam_update(const gb_optimizer *o, gb_optim_state *s, float *p, const float *grad, int n) {
    s->step += 1.0f;
    const double t = s->step;
    const double bias_correction1 = 1 - pow(o->beta1, t);
    const double bias_correction2 = 1 - pow(o->beta2, t);
    const float step_size = (float)-(o->lr / bias_correction1);
    const float bc2_sqrt = (float)sqrt(bias_correction2);
    const float wd = (float)o->weight_decay, beta1 = (float)o->beta1, beta2 = (float)o->beta2;
    const float one_minus_b1 = (float)(1 - o->beta1), one_minus_b2 = (float)(1 - o->beta2), eps = (float)o->eps;
    for (int i = 0; i < n; i++) {
        float g = o->weight_decay != 0 ? fma_f32(wd, p[i], grad[i]) : grad[i];
        s->exp_avg[i] = fma_f32(one_minus_b1, g, s->exp_avg[i] * beta1);
        s->exp_avg_sq[i] = s->exp_avg_sq[i] * beta2 + one_minus_b2 * g * g;   // addcmul_: no fusion
        float denom = sqrtf(s->exp_avg_sq[i]) / bc2_sqrt + eps;
        p[i] = p[i] + step_size * (s->exp_avg[i] / denom);                  // addcdiv_
    }
}

gb_status gb_optim_step(gb_optimizer *o) {
    GB_TRY(ensure_state(o));
    for (int i = 0; i < o->n_params; i++) {
        gb_tensor *p = o->params[i];
        if (!p->grad) continue;   // torch: params_with_grad only
        gb_optim_state *s = &o->state[i];
        int first = !s->present;
        s->present = 1;
        if (o->kind == GB_OPTIM_SGD) sgd_update(o, s, first, p->data, p->grad, p->numel);
        else adam_update(o, s, p->data, p->grad, p->numel);
        p->version++;   // new values: derived caches (Winograd, packed weights) are stale
    }
    return GB_OK;
}

void gb_optim_zero_grad(gb_optimizer *o, int set_to_none) {
    for (int i = 0; i < o->n_params; i++) {
        gb_tensor *p = o->params[i];
        if (!p->grad) continue;
        if (set_to_none) p->grad = NULL;
        else memset(p->grad, 0, sizeof(float) * (size_t)p->numel);
    }
}

int gb_optim_state_count(const gb_optimizer *o) {
    int n = 0;
    for (int i = 0; i < o->n_params; i++) n += o->state[i].present;
    return n;
}

size_t gb_optim_state_bytes(const gb_optimizer *o) {
    size_t bytes = 0;
    for (int i = 0; i < o->n_params; i++) {
        const gb_optim_state *s = &o->state[i];
        size_t one = sizeof(float) * (size_t)o->params[i]->numel;
        bytes += (s->momentum_buffer ? one : 0) + (s->exp_avg ? 2 * one : 0);
    }
    return bytes;
}
