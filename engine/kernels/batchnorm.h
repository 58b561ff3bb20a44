// batchnorm.h: BatchNorm2d over NCHW, per channel c, with n = N*H*W values.
//
// train forward:
//   mean   = sum(x) / n
//   var    = sum((x - mean)^2) / n                 biased: used to normalise
//   xhat   = (x - mean) * invstd,  invstd = 1 / sqrt(var + eps)
//   y      = gamma * xhat + beta
//   running_mean = (1 - momentum) * running_mean + momentum * mean
//   running_var  = (1 - momentum) * running_var  + momentum * var * n / (n - 1)   unbiased
// eval forward: the same with running_mean / running_var in place of the batch stats.
// backward (train mode: mean and var depend on x):
//   dbeta  += sum(dy)
//   dgamma += sum(dy * xhat)
//   dx     += gamma * invstd / n * (n * dy - sum(dy) - xhat * sum(dy * xhat))
// backward (eval mode: running stats are constants): dx += gamma * invstd * dy.
// Sums are in double (two passes for the variance), so the statistics do not
// depend on the order of the n values; threads split the channels.
#ifndef GB_BATCHNORM_H
#define GB_BATCHNORM_H

// save_mean / save_invstd (length C) are written for backward; the running
// stats are updated in place (either pair may be NULL to skip).
void gb_f32_batchnorm_forward_train(int N, int C, int HW, const float *x, const float *gamma,
                                    const float *beta, float eps, float momentum,
                                    float *running_mean, float *running_var, float *y,
                                    float *save_mean, float *save_invstd);
void gb_f32_batchnorm_forward_eval(int N, int C, int HW, const float *x, const float *gamma,
                                   const float *beta, const float *running_mean,
                                   const float *running_var, float eps, float *y);
// Eval's y = x * scale[c] + shift[c]: scale = gamma / sqrt(running_var + eps),
// shift = beta - running_mean * scale, made in double and rounded once. The
// one place they are made: the pass above and a conv's epilogue (conv2d.h)
// give the same bits. gamma, beta may be NULL (1 and 0).
void gb_f32_batchnorm_eval_coeffs(int C, const float *gamma, const float *beta, const float *running_mean,
                                  const float *running_var, float eps, float *scale, float *shift);
// train = 1 uses the train-mode formula with save_mean / save_invstd;
// train = 0 takes mean/invstd computed from the running stats (pass them in
// the same two arrays). dx, dgamma, dbeta accumulate and may each be NULL;
// with store_dx, dx is overwritten instead (a flow that is new).
void gb_f32_batchnorm_backward(int N, int C, int HW, const float *x, const float *dy,
                               const float *gamma, const float *save_mean,
                               const float *save_invstd, int train, float *dx, int store_dx,
                               float *dgamma, float *dbeta);

#endif
