// batchnorm.c: BatchNorm2d forward (train/eval) and backward (maths in batchnorm.h).
#include "batchnorm.h"

#include "../threads/gb_pool.h"
#include "gb_simd128.h"

#include <math.h>
#include <stddef.h>

typedef struct bn_job {
    int N, C, HW, train, store_dx;
    const float *x, *dy, *gamma, *beta, *mean_in, *invstd_in, *rmean_in, *rvar_in;
    float eps, momentum;
    float *y, *rmean, *rvar, *save_mean, *save_invstd, *dx, *dgamma, *dbeta;
    gb_take_counter taken;   // chunks taken so far (gb_pool_take)
} bn_job;

// y = x * scale + shift over channel c of every image.
static void apply(const bn_job *j, int c, float scale, float shift) {
    for (int n = 0; n < j->N; n++) {
        const size_t off = ((size_t)n * j->C + c) * j->HW;
        const float *x = j->x + off;
        float *y = j->y + off;
        for (int i = 0; i < j->HW; i++) y[i] = x[i] * scale + shift;
    }
}

// Sums over one plane in double, in 4 interleaved partial sums s0..s3
// (element i goes to s[i % 4]): 4 independent chains of adds instead of one
// (an add waits ~4 cycles for the previous), combined as (s0 + s1) +
// (s2 + s3): a fixed order, so the result does not depend on the thread that
// computes it. The chains run as two f64x2 vectors (s0 s1) and (s2 s3), fed
// by load2d: the same sums as scalar code, as fast (these passes wait on
// memory), and the pattern that makes the backward's sums 0.7x faster.

// p[0], p[1] as doubles: one 8-byte load (v128.load64_zero) and one
// f64x2.promote_low_f32x4 (f64x2 from the low half of a full f32x4 load by a
// shuffle first measured 1.2x slower).
static inline v128_t load2d(const float *p) { return wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(p)); }

static double plane_sum(const float *x, int n) {
    v128_t vs01 = wasm_f64x2_splat(0.0), vs23 = vs01;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        vs01 = wasm_f64x2_add(vs01, load2d(x + i));
        vs23 = wasm_f64x2_add(vs23, load2d(x + i + 2));
    }
    double s0 = wasm_f64x2_extract_lane(vs01, 0);
    for (; i < n; i++) s0 += x[i];
    return (s0 + wasm_f64x2_extract_lane(vs01, 1)) +
           (wasm_f64x2_extract_lane(vs23, 0) + wasm_f64x2_extract_lane(vs23, 1));
}

// sum of (x - mean)^2, the same way.
static double plane_sqdev(const float *x, int n, double mean) {
    const v128_t vmean = wasm_f64x2_splat(mean);
    v128_t vs01 = wasm_f64x2_splat(0.0), vs23 = vs01;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const v128_t vd01 = wasm_f64x2_sub(load2d(x + i), vmean);
        const v128_t vd23 = wasm_f64x2_sub(load2d(x + i + 2), vmean);
        vs01 = wasm_f64x2_add(vs01, wasm_f64x2_mul(vd01, vd01));
        vs23 = wasm_f64x2_add(vs23, wasm_f64x2_mul(vd23, vd23));
    }
    double s0 = wasm_f64x2_extract_lane(vs01, 0);
    for (; i < n; i++) { const double d = x[i] - mean; s0 += d * d; }
    return (s0 + wasm_f64x2_extract_lane(vs01, 1)) +
           (wasm_f64x2_extract_lane(vs23, 0) + wasm_f64x2_extract_lane(vs23, 1));
}

// sum(dy) and sum(dy * xhat), xhat = (x - mean) * invstd, each in 2
// interleaved partial sums (element i to chain i % 2), one f64x2 vector:
// the scalar pairs loop's order, 0.68-0.82x its time (ResNet's shapes at
// batch 16, 1 thread, alternated in one wasm process).
static void plane_dy_sums(const float *dy, const float *x, int n, double mean, double invstd,
                          double *sdy, double *sdyx) {
    const v128_t vmean = wasm_f64x2_splat(mean), vinvstd = wasm_f64x2_splat(invstd);
    v128_t va = wasm_f64x2_splat(0.0), vb = va;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const v128_t vg01 = load2d(dy + i), vg23 = load2d(dy + i + 2);
        va = wasm_f64x2_add(va, vg01);
        vb = wasm_f64x2_add(vb, wasm_f64x2_mul(vg01, wasm_f64x2_mul(wasm_f64x2_sub(load2d(x + i), vmean), vinvstd)));
        va = wasm_f64x2_add(va, vg23);
        vb = wasm_f64x2_add(vb, wasm_f64x2_mul(vg23, wasm_f64x2_mul(wasm_f64x2_sub(load2d(x + i + 2), vmean), vinvstd)));
    }
    double a[2] = { wasm_f64x2_extract_lane(va, 0), wasm_f64x2_extract_lane(va, 1) };
    double b[2] = { wasm_f64x2_extract_lane(vb, 0), wasm_f64x2_extract_lane(vb, 1) };
    for (; i < n; i++) { a[i % 2] += dy[i]; b[i % 2] += dy[i] * ((x[i] - mean) * invstd); }
    *sdy += a[0] + a[1];
    *sdyx += b[0] + b[1];
}

static void train_task(void *ctx, int ith, int nth) {
    bn_job *j = ctx;
    const double cnt = (double)j->N * j->HW;
    int c0, c1;
    while (gb_pool_take(&j->taken, j->C, ith, nth, &c0, &c1)) {
        for (int c = c0; c < c1; c++) {
            double sum = 0, sq = 0;
            for (int n = 0; n < j->N; n++) sum += plane_sum(j->x + ((size_t)n * j->C + c) * j->HW, j->HW);
            const double mean = sum / cnt;
            for (int n = 0; n < j->N; n++) sq += plane_sqdev(j->x + ((size_t)n * j->C + c) * j->HW, j->HW, mean);
            const double var = sq / cnt;
            const double invstd = 1.0 / sqrt(var + j->eps);
            const float g = j->gamma ? j->gamma[c] : 1.0f, b = j->beta ? j->beta[c] : 0.0f;
            apply(j, c, (float)(g * invstd), (float)(b - mean * g * invstd));
            if (j->save_mean) j->save_mean[c] = (float)mean;
            if (j->save_invstd) j->save_invstd[c] = (float)invstd;
            if (j->rmean) j->rmean[c] = (float)((1.0 - j->momentum) * j->rmean[c] + j->momentum * mean);
            if (j->rvar) {
                const double unbiased = cnt > 1 ? var * cnt / (cnt - 1) : var;
                j->rvar[c] = (float)((1.0 - j->momentum) * j->rvar[c] + j->momentum * unbiased);
            }
        }
    }
}

void gb_f32_batchnorm_forward_train(int N, int C, int HW, const float *x, const float *gamma,
                                    const float *beta, float eps, float momentum,
                                    float *running_mean, float *running_var, float *y,
                                    float *save_mean, float *save_invstd) {
    bn_job j = { .N = N, .C = C, .HW = HW, .x = x, .gamma = gamma, .beta = beta, .eps = eps,
                 .momentum = momentum, .rmean = running_mean, .rvar = running_var, .y = y,
                 .save_mean = save_mean, .save_invstd = save_invstd };
    gb_parallel_for(train_task, &j);
}

// Eval mode is plane by plane (no sums over the batch), so the planes go in
// memory order, image by image: with two-ended takes (gb_pool.h) each core
// normalises the images it made in the conv before (at batch 1, the
// channels), not every image's share of the channels.
static void eval_coeff(const float *gamma, const float *beta, const float *rmean, const float *rvar, float eps,
                       int c, float *scale, float *shift) {
    const double invstd = 1.0 / sqrt((double)rvar[c] + eps);
    const double g = gamma ? gamma[c] : 1.0, b = beta ? beta[c] : 0.0;
    *scale = (float)(g * invstd);
    *shift = (float)(b - rmean[c] * g * invstd);
}

void gb_f32_batchnorm_eval_coeffs(int C, const float *gamma, const float *beta, const float *running_mean,
                                  const float *running_var, float eps, float *scale, float *shift) {
    for (int c = 0; c < C; c++) eval_coeff(gamma, beta, running_mean, running_var, eps, c, scale + c, shift + c);
}

static void eval_task(void *ctx, int ith, int nth) {
    bn_job *j = ctx;
    int q0, q1;
    while (gb_pool_take(&j->taken, j->N * j->C, ith, nth, &q0, &q1)) {
        for (int q = q0; q < q1; q++) {
            const int c = q % j->C;
            float scale, shift;
            eval_coeff(j->gamma, j->beta, j->rmean_in, j->rvar_in, j->eps, c, &scale, &shift);
            const float *x = j->x + (size_t)q * j->HW;
            float *y = j->y + (size_t)q * j->HW;
            for (int i = 0; i < j->HW; i++) y[i] = x[i] * scale + shift;
        }
    }
}

void gb_f32_batchnorm_forward_eval(int N, int C, int HW, const float *x, const float *gamma,
                                   const float *beta, const float *running_mean,
                                   const float *running_var, float eps, float *y) {
    bn_job j = { .N = N, .C = C, .HW = HW, .x = x, .gamma = gamma, .beta = beta,
                 .rmean_in = running_mean, .rvar_in = running_var, .eps = eps, .y = y };
    gb_parallel_for(eval_task, &j);
}

static void backward_task(void *ctx, int ith, int nth) {
    bn_job *j = ctx;
    const double cnt = (double)j->N * j->HW;
    int c0, c1;
    while (gb_pool_take(&j->taken, j->C, ith, nth, &c0, &c1)) {
        for (int c = c0; c < c1; c++) {
            const double mean = j->mean_in[c], invstd = j->invstd_in[c];
            double sdy = 0, sdyx = 0;                 // sum(dy), sum(dy * xhat)
            for (int n = 0; n < j->N; n++) {
                const size_t off = ((size_t)n * j->C + c) * j->HW;
                plane_dy_sums(j->dy + off, j->x + off, j->HW, mean, invstd, &sdy, &sdyx);
            }
            if (j->dbeta) j->dbeta[c] += (float)sdy;
            if (j->dgamma) j->dgamma[c] += (float)sdyx;
            if (!j->dx) continue;
            const double g = j->gamma ? j->gamma[c] : 1.0;
            // train: dx = k * (dy - mean(dy) - xhat * mean(dy*xhat)), k = g*invstd; eval: k * dy
            const float k = (float)(g * invstd);
            const float mdy = j->train ? (float)(sdy / cnt) : 0.0f;
            const float mdyx = j->train ? (float)(sdyx / cnt) : 0.0f;
            const float fmean = (float)mean, finv = (float)invstd;
            for (int n = 0; n < j->N; n++) {
                const size_t off = ((size_t)n * j->C + c) * j->HW;
                const float *x = j->x + off, *dy = j->dy + off;
                float *dx = j->dx + off;
                if (j->store_dx) {   // a new flow: dx = v, the same bits as -0 + v
                    for (int i = 0; i < j->HW; i++) dx[i] = k * (dy[i] - mdy - (x[i] - fmean) * finv * mdyx);
                } else {
                    for (int i = 0; i < j->HW; i++) dx[i] += k * (dy[i] - mdy - (x[i] - fmean) * finv * mdyx);
                }
            }
        }
    }
}

void gb_f32_batchnorm_backward(int N, int C, int HW, const float *x, const float *dy,
                               const float *gamma, const float *save_mean,
                               const float *save_invstd, int train, float *dx, int store_dx,
                               float *dgamma, float *dbeta) {
    bn_job j = { .N = N, .C = C, .HW = HW, .train = train, .store_dx = store_dx, .x = x, .dy = dy, .gamma = gamma,
                 .mean_in = save_mean, .invstd_in = save_invstd, .dx = dx, .dgamma = dgamma,
                 .dbeta = dbeta };
    gb_parallel_for(backward_task, &j);
}
