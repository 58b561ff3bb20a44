// eval.c: walks the tree and calls the ops. Python numbers stay numbers
// until they meet a tensor; then they become 0-d constants, the way PyTorch
// wraps them (so `3*a` is MulBackward0 with one input needing a gradient).
// The few places where Python's reflected operators make PyTorch record a
// different node are kept: `2 - a` (RsubBackward1), `2 / a` (reciprocal, then
// MulBackward0), `a ** 2` (PowBackward0 with the exponent saved as a number).
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../ops/gb_ops.h"
#include "gb_lang.h"

typedef struct value {
    gb_tensor *t;      // NULL when the value is a plain number
    double num;
} value;

static gb_status eval(gb_eval_ctx *ctx, const gb_ast *n, value *out);

// Gives the error that an op returned the position of the operator.
static gb_status at(gb_status s, const gb_ast *n) {
    if (s != GB_OK && gb_last_error_pos() < 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", gb_last_error());
        gb_set_error_at(s, n->op_pos, "%s", msg);
    }
    return s;
}

// Names the node that an op just recorded after the source that made it.
static void label(gb_eval_ctx *ctx, const gb_ast *n, gb_tensor *t) {
    if (!t->grad_fn || t->grad_fn->text) return;
    int len = n->end - n->start;
    char *text = gb_arena_alloc(&ctx->graph->arena, (size_t)len + 1);
    if (!text) return;
    memcpy(text, ctx->src + n->start, (size_t)len);
    // Whatever the op made on the way (unsqueeze for 1-D @ 2-D) shares the label.
    for (gb_node *node = t->grad_fn; node && !node->text; node = node->inputs[0]->grad_fn) node->text = text;
}

static gb_status as_tensor(gb_eval_ctx *ctx, value v, gb_tensor **t) {
    if (v.t) { *t = v.t; return GB_OK; }
    *t = gb_tensor_scalar(&ctx->graph->arena, (float)v.num);
    return *t ? GB_OK : GB_ERR_NOMEM;
}

static gb_status number_binary(char op, double x, double y, const gb_ast *n, value *out) {
    switch (op) {
    case '+': out->num = x + y; break;
    case '-': out->num = x - y; break;
    case '*': out->num = x * y; break;
    case '/':
        if (y == 0) return gb_set_error_at(GB_ERR_ZERO_DIVISION, n->op_pos, "division by zero");
        out->num = x / y;
        break;
    case '^': out->num = pow(x, y); break;
    case '=': out->num = x == y; break;
    default: return gb_set_error_at(GB_ERR_TYPE, n->op_pos, "unsupported operand type(s) for @: 'float' and 'float'");
    }
    out->t = NULL;
    return GB_OK;
}

static gb_status eval_binary(gb_eval_ctx *ctx, const gb_ast *n, value *out) {
    value x, y;
    GB_TRY(eval(ctx, n->lhs, &x));
    GB_TRY(eval(ctx, n->rhs, &y));
    if (!x.t && !y.t) return number_binary(n->op, x.num, y.num, n, out);
    gb_graph *g = ctx->graph;
    gb_status s;
    gb_tensor *tx, *ty, *tmp;
    if (n->op == '-' && !x.t) s = gb_rsub(g, y.t, x.num, &out->t);            // 2 - a
    else if (n->op == '^' && !y.t) s = gb_pow_scalar(g, x.t, y.num, &out->t); // a ** 2
    else if (n->op == '/' && !x.t) {                                           // 2 / a
        s = gb_reciprocal(g, y.t, &tmp);
        if (s == GB_OK) label(ctx, n->rhs, tmp);
        if (s == GB_OK) s = as_tensor(ctx, x, &tx);
        if (s == GB_OK) s = gb_mul(g, tmp, tx, &out->t);
    } else {
        GB_TRY(as_tensor(ctx, x, &tx));
        GB_TRY(as_tensor(ctx, y, &ty));
        switch (n->op) {
        case '+': s = gb_add(g, tx, ty, &out->t); break;
        case '-': s = gb_sub(g, tx, ty, &out->t); break;
        case '*': s = gb_mul(g, tx, ty, &out->t); break;
        case '/': s = gb_div(g, tx, ty, &out->t); break;
        case '^': s = gb_pow(g, tx, ty, &out->t); break;
        case '@': s = gb_matmul(g, tx, ty, &out->t); break;
        case '=': s = gb_eq(g, tx, ty, &out->t); break;
        default: GB_ASSERT(0, "operator %c", n->op);
        }
    }
    GB_TRY(at(s, n));
    label(ctx, n, out->t);
    return GB_OK;
}

// --- functions and methods ------------------------------------------------------

typedef gb_status (*unary_op)(gb_graph *, gb_tensor *, gb_tensor **);
typedef gb_status (*binary_op)(gb_graph *, gb_tensor *, gb_tensor *, gb_tensor **);

static const struct { const char *name; unary_op f; } unary_ops[] = {
    { "exp", gb_exp }, { "log", gb_log }, { "sqrt", gb_sqrt }, { "abs", gb_abs },
    { "sin", gb_sin }, { "cos", gb_cos }, { "tanh", gb_tanh }, { "sigmoid", gb_sigmoid },
    { "relu", gb_relu }, { "neg", gb_neg }, { "reciprocal", gb_reciprocal },
};

static const struct { const char *name; binary_op f; } binary_ops[] = {
    { "add", gb_add }, { "sub", gb_sub }, { "mul", gb_mul }, { "div", gb_div },
    { "matmul", gb_matmul }, { "mm", gb_mm }, { "mv", gb_mv }, { "dot", gb_dot },
    { "pow", gb_pow },
};

static int name_is(const char *name, int len, const char *want) {
    return (int)strlen(want) == len && strncmp(name, want, (size_t)len) == 0;
}

// "Tensor.exp() takes no arguments (1 given)": counts as Python gives them,
// without self for a method (args[0] is self there).
static gb_status wrong_count(const gb_ast *n, const char *what, int want, int n_args, int is_method) {
    int expected = want - is_method, given = n_args - is_method;
    if (expected == 0) return gb_set_error_at(GB_ERR_TYPE, n->op_pos, "%s takes no arguments (%d given)", what, given);
    return gb_set_error_at(GB_ERR_TYPE, n->op_pos, "%s takes %d argument%s (%d given)", what, expected,
                           expected == 1 ? "" : "s", given);
}

// Calls `fname` with tensors args[0..n) (args[0] is self for methods).
static gb_status call_named(gb_eval_ctx *ctx, const gb_ast *n, const char *fname, int flen,
                            value *args, const char *const *kw, int n_args, int is_method,
                            value *out) {
    gb_graph *g = ctx->graph;
    char what[64];
    snprintf(what, sizeof what, "%s%.*s()", is_method ? "Tensor." : "torch.", flen, fname);
    for (int i = 0; i < n_args; i++)
        if (kw[i] && !(strcmp(kw[i], "dim") == 0 && i == 1))
            return gb_set_error_at(GB_ERR_TYPE, n->op_pos, "%s got an unexpected keyword argument '%s'", what, kw[i]);
    gb_tensor *self;
    if (n_args == 0) return gb_set_error_at(GB_ERR_TYPE, n->op_pos, "%s missing required argument 'input'", what);
    if (name_is(fname, flen, "pow") && n_args == 2 && !args[0].t && args[1].t)
        return gb_pow_base(g, args[0].num, args[1].t, &out->t);      // torch.pow(2, a)
    GB_TRY(as_tensor(ctx, args[0], &self));
    for (size_t i = 0; i < sizeof unary_ops / sizeof *unary_ops; i++) {
        if (!name_is(fname, flen, unary_ops[i].name)) continue;
        if (n_args != 1)
            return wrong_count(n, what, 1, n_args, is_method);
        return unary_ops[i].f(g, self, &out->t);
    }
    if (name_is(fname, flen, "sum") || name_is(fname, flen, "mean")) {
        int mean = fname[0] == 'm';
        if (n_args == 1) return (mean ? gb_mean : gb_sum)(g, self, &out->t);
        if (n_args != 2 || args[1].t || args[1].num != floor(args[1].num))
            return gb_set_error_at(GB_ERR_TYPE, n->op_pos, "%s takes an optional integer dim", what);
        return (mean ? gb_mean_dim : gb_sum_dim)(g, self, (int)args[1].num, &out->t);
    }
    for (size_t i = 0; i < sizeof binary_ops / sizeof *binary_ops; i++) {
        if (!name_is(fname, flen, binary_ops[i].name)) continue;
        if (n_args != 2)
            return wrong_count(n, what, 2, n_args, is_method);
        if (binary_ops[i].f == gb_pow && !args[1].t) return gb_pow_scalar(g, self, args[1].num, &out->t);
        gb_tensor *other;
        GB_TRY(as_tensor(ctx, args[1], &other));
        return binary_ops[i].f(g, self, other, &out->t);
    }
    if (is_method)
        return gb_set_error_at(GB_ERR_ATTRIBUTE, n->op_pos, "'Tensor' object has no attribute '%.*s'", flen, fname);
    return gb_set_error_at(GB_ERR_ATTRIBUTE, n->op_pos, "module 'torch' has no attribute '%.*s'", flen, fname);
}

static gb_status eval_call(gb_eval_ctx *ctx, const gb_ast *n, value *out) {
    const gb_ast *callee = n->lhs;
    if (callee->kind != GB_AST_ATTR) {
        if (callee->kind == GB_AST_NAME)
            return gb_set_error_at(GB_ERR_NAME, callee->start,
                                   "name '%.*s' is not defined (functions are written torch.%.*s(...))",
                                   callee->name_len, callee->name, callee->name_len, callee->name);
        return gb_set_error_at(GB_ERR_TYPE, n->op_pos, "this value is not callable");
    }
    value args[GB_MAX_ARGS + 1];
    const char *kw[GB_MAX_ARGS + 1] = { 0 };
    int n_args = 0, is_method = 1;
    const gb_ast *base = callee->lhs;
    if (base->kind == GB_AST_NAME && name_is(base->name, base->name_len, "torch")) is_method = 0;
    else GB_TRY(eval(ctx, base, &args[n_args++]));
    for (int i = 0; i < n->n_args; i++) {
        GB_TRY(eval(ctx, n->args[i], &args[n_args]));
        kw[n_args++] = n->kw[i];
    }
    GB_TRY(at(call_named(ctx, n, callee->name, callee->name_len, args, kw, n_args, is_method, out), n));
    label(ctx, n, out->t);
    return GB_OK;
}

// a.grad: the leaf's gradient, as a plain tensor (a constant here).
static gb_status eval_attr(gb_eval_ctx *ctx, const gb_ast *n, value *out) {
    if (n->lhs->kind == GB_AST_NAME && name_is(n->lhs->name, n->lhs->name_len, "torch"))
        return gb_set_error_at(GB_ERR_TYPE, n->op_pos, "torch.%.*s is not a value here; call a function such as torch.exp(a)",
                               n->name_len, n->name);
    value base;
    GB_TRY(eval(ctx, n->lhs, &base));
    if (!name_is(n->name, n->name_len, "grad") || !base.t) {
        if (!base.t) return gb_set_error_at(GB_ERR_ATTRIBUTE, n->op_pos, "'float' object has no attribute '%.*s'", n->name_len, n->name);
        int is_method = 0;
        for (size_t i = 0; i < sizeof unary_ops / sizeof *unary_ops; i++) is_method |= name_is(n->name, n->name_len, unary_ops[i].name);
        if (is_method)
            return gb_set_error_at(GB_ERR_ATTRIBUTE, n->op_pos, "'%.*s' is a method: write %.*s()", n->name_len, n->name, n->name_len, n->name);
        return gb_set_error_at(GB_ERR_ATTRIBUTE, n->op_pos, "'Tensor' object has no attribute '%.*s'", n->name_len, n->name);
    }
    if (!base.t->grad)
        return gb_set_error_at(GB_ERR_AUTOGRAD, n->op_pos,
                               "%.*s.grad is None: it is set by backward() on a leaf that requires grad",
                               n->lhs->end - n->lhs->start, ctx->src + n->lhs->start);
    gb_tensor *g = gb_graph_tensor(ctx->graph, base.t->ndim, base.t->shape);
    if (!g) return GB_ERR_NOMEM;
    memcpy(g->data, base.t->grad, (size_t)g->numel * sizeof(float));
    out->t = g;
    return GB_OK;
}

static gb_status eval(gb_eval_ctx *ctx, const gb_ast *n, value *out) {
    out->t = NULL;
    out->num = 0;
    switch (n->kind) {
    case GB_AST_NUM: out->num = n->num; return GB_OK;
    case GB_AST_NAME: {
        if (name_is(n->name, n->name_len, "torch"))
            return gb_set_error_at(GB_ERR_TYPE, n->start, "'torch' is a module; call a function such as torch.exp(a)");
        out->t = ctx->lookup(ctx->lookup_ctx, n->name, n->name_len);
        if (!out->t) return gb_set_error_at(GB_ERR_NAME, n->start, "name '%.*s' is not defined", n->name_len, n->name);
        return GB_OK;
    }
    case GB_AST_UNARY: {
        value x;
        GB_TRY(eval(ctx, n->lhs, &x));
        if (n->op == '+') { *out = x; return GB_OK; }
        if (!x.t) { out->num = -x.num; return GB_OK; }
        GB_TRY(at(gb_neg(ctx->graph, x.t, &out->t), n));
        label(ctx, n, out->t);
        return GB_OK;
    }
    case GB_AST_BINARY: return eval_binary(ctx, n, out);
    case GB_AST_CALL: return eval_call(ctx, n, out);
    case GB_AST_ATTR: return eval_attr(ctx, n, out);
    }
    return GB_OK;
}

gb_status gb_eval(gb_eval_ctx *ctx, const gb_ast *ast, gb_tensor **out) {
    value v;
    GB_TRY(eval(ctx, ast, &v));
    GB_TRY(as_tensor(ctx, v, out));
    return GB_OK;
}

gb_status gb_eval_source(gb_eval_ctx *ctx, const char *src, gb_tensor **out) {
    gb_ast *ast;
    ctx->src = src;
    GB_TRY(gb_parse(src, &ctx->graph->arena, &ast));
    return gb_eval(ctx, ast, out);
}
