// gb_ops.h: every differentiable op of the engine. Each constructor checks
// its arguments (a user can pass anything), computes the output now and
// records a node on the tape when a gradient will be needed.
// `out` receives a tensor from the graph's arena.
#ifndef GB_OPS_H
#define GB_OPS_H

#include "../core/gb_tensor.h"

// --- elementwise, with PyTorch broadcasting ----------------------------------
gb_status gb_add(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out);   // x + y
// relu(x + y) for same shapes where no gradient goes through (x and y need
// none, or grad mode is off: the residual connection at inference), in one
// pass: the bits of gb_add then gb_relu_, nothing recorded.
gb_status gb_add_relu_nograd(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out);
gb_status gb_sub(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out);   // x - y
gb_status gb_rsub(gb_graph *g, gb_tensor *x, double other, gb_tensor **out);  // other - x
gb_status gb_mul(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out);   // x * y
gb_status gb_div(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out);   // x / y
gb_status gb_pow_scalar(gb_graph *g, gb_tensor *x, double exponent, gb_tensor **out); // x ** p
gb_status gb_pow(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out);   // x ** y
gb_status gb_pow_base(gb_graph *g, double base, gb_tensor *y, gb_tensor **out); // torch.pow(c, y)
gb_status gb_eq(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out);    // x == y (bool, no grad)

// --- elementwise, one input ---------------------------------------------------
gb_status gb_neg(gb_graph *g, gb_tensor *x, gb_tensor **out);
gb_status gb_reciprocal(gb_graph *g, gb_tensor *x, gb_tensor **out);
gb_status gb_exp(gb_graph *g, gb_tensor *x, gb_tensor **out);
gb_status gb_log(gb_graph *g, gb_tensor *x, gb_tensor **out);
gb_status gb_sqrt(gb_graph *g, gb_tensor *x, gb_tensor **out);
gb_status gb_abs(gb_graph *g, gb_tensor *x, gb_tensor **out);
gb_status gb_sin(gb_graph *g, gb_tensor *x, gb_tensor **out);
gb_status gb_cos(gb_graph *g, gb_tensor *x, gb_tensor **out);
gb_status gb_tanh(gb_graph *g, gb_tensor *x, gb_tensor **out);
gb_status gb_sigmoid(gb_graph *g, gb_tensor *x, gb_tensor **out);
gb_status gb_relu(gb_graph *g, gb_tensor *x, gb_tensor **out);
// relu(x, inplace=True): in a planned step, the output takes x's bytes when
// this is x's last read (core/gb_plan.h); otherwise the same as gb_relu.
gb_status gb_relu_(gb_graph *g, gb_tensor *x, gb_tensor **out);

// --- reductions ---------------------------------------------------------------
gb_status gb_sum(gb_graph *g, gb_tensor *x, gb_tensor **out);              // all elements
gb_status gb_sum_dim(gb_graph *g, gb_tensor *x, int dim, gb_tensor **out); // along dim
gb_status gb_mean(gb_graph *g, gb_tensor *x, gb_tensor **out);
gb_status gb_mean_dim(gb_graph *g, gb_tensor *x, int dim, gb_tensor **out);

// --- products and views -------------------------------------------------------
gb_status gb_mm(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out);   // (n,k)@(k,m)
gb_status gb_mv(gb_graph *g, gb_tensor *x, gb_tensor *v, gb_tensor **out);   // (n,k)@(k)
gb_status gb_dot(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out);  // (k)@(k)
gb_status gb_matmul(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out); // `@`
gb_status gb_unsqueeze(gb_graph *g, gb_tensor *x, int dim, gb_tensor **out);
gb_status gb_squeeze_dim(gb_graph *g, gb_tensor *x, int dim, gb_tensor **out);

// --- helpers shared by the op files (elementwise.c, describe.c) ---------------
typedef float (*gb_unary_fn)(float x);
typedef float (*gb_binary_fn)(float x, float y);
gb_status gb_unary_apply(gb_graph *g, const gb_op_def *op, gb_unary_fn f, gb_tensor *x,
                         const gb_op_params *p, gb_tensor **out);
gb_status gb_binary_apply(gb_graph *g, const gb_op_def *op, gb_binary_fn f, gb_tensor *x,
                          gb_tensor *y, const gb_op_params *p, gb_tensor **out);
// Makes `dim` (which may be negative, as in Python) an index in [0, ndim).
gb_status gb_wrap_dim(int dim, int ndim, int *wrapped);

// Describing a node for the graph view: saved values and local derivatives.
void gb_desc_saved_tensor(gb_sb *sb, const char *name, const gb_tensor *t);
void gb_desc_saved_scalar(gb_sb *sb, const char *name, double v);
// {"wrt": <label of input i>, "d": <printf text>}, only if input i needs a grad.
void gb_desc_local(gb_sb *sb, const gb_node *node, int input, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
// How the page names a tensor: a leaf's name, a constant's value, else the
// source text that made it (in parentheses when it has operators).
const char *gb_label(const gb_tensor *t, char *buf, size_t cap);
// "a²", "a³", "a^(-0.5)", "a" for exponent 1, "1" for 0.
const char *gb_power_text(const char *base, double exponent, char *buf, size_t cap);
// A number as Python prints it in code: 3, 0.5, -2.
const char *gb_num_text(double v, char *buf, size_t cap);

#endif
