// workspace.c: see gb_workspace.h.
#include "gb_workspace.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#include "../core/gb_repr.h"
#include "../lang/gb_lang.h"

void gb_ws_init(gb_ws *ws) {
    memset(ws, 0, sizeof *ws);
    gb_arena_init(&ws->store, GB_WS_STORE_BLOCK);
    gb_graph_init(&ws->graph);
    gb_sb_init(&ws->json);
}

void gb_ws_destroy(gb_ws *ws) {
    gb_arena_free(&ws->store);
    gb_graph_free(&ws->graph);
    gb_sb_free(&ws->json);
}

void gb_ws_reset(gb_ws *ws) {
    gb_arena_reset(&ws->store);
    gb_graph_reset(&ws->graph);
    ws->n_vars = 0;
    memset(&ws->check, 0, sizeof ws->check);
}

gb_var *gb_ws_find(gb_ws *ws, const char *name, int len) {
    for (int i = ws->n_vars - 1; i >= 0; i--)
        if ((int)strlen(ws->vars[i].name) == len && strncmp(ws->vars[i].name, name, (size_t)len) == 0)
            return &ws->vars[i];
    return NULL;
}

// Binds `name` (a Python identifier) to a new or existing slot.
static gb_status bind(gb_ws *ws, const char *name, gb_var **out) {
    size_t len = strlen(name);
    int ok = len > 0 && len < GB_WS_MAX_NAME && (isalpha((unsigned char)name[0]) || name[0] == '_');
    for (size_t i = 0; ok && i < len; i++) ok = isalnum((unsigned char)name[i]) || name[i] == '_';
    if (!ok || strcmp(name, "torch") == 0)
        return gb_set_error(GB_ERR_ARG, "'%.40s' is not a valid variable name", name);
    gb_var *v = gb_ws_find(ws, name, (int)len);
    if (!v) {
        if (ws->n_vars == GB_WS_MAX_VARS) return gb_set_error(GB_ERR_ARG, "too many variables (at most %d)", GB_WS_MAX_VARS);
        v = &ws->vars[ws->n_vars++];
        memset(v, 0, sizeof *v);
        memcpy(v->name, name, len + 1);
    }
    *out = v;
    return GB_OK;
}

gb_status gb_ws_tensor(gb_ws *ws, const char *name, const float *data, const int *shape,
                       int ndim, int requires_grad) {
    if (ndim < 0 || ndim > GB_MAX_DIMS) return gb_set_error(GB_ERR_SHAPE, "tensors have 0 to %d dimensions, not %d", GB_MAX_DIMS, ndim);
    for (int d = 0; d < ndim; d++)
        if (shape[d] < 0 || shape[d] > GB_WS_MAX_SIZE)
            return gb_set_error(GB_ERR_SHAPE, "bad size %d in dimension %d (0..%d)", shape[d], d, GB_WS_MAX_SIZE);
    gb_var *v;
    GB_TRY(bind(ws, name, &v));
    gb_tensor *t = gb_tensor_new(&ws->store, ndim, shape);
    if (!t) return GB_ERR_NOMEM;
    memcpy(t->data, data, (size_t)t->numel * sizeof(float));
    if (requires_grad) t->flags |= GB_REQUIRES_GRAD | GB_NEEDS_GRAD;
    t->name = v->name;
    v->t = t;
    v->expr = NULL;
    v->no_grad = 0;
    return GB_OK;
}

typedef struct lookup_ctx {
    gb_ws *ws;
    int recompute;   // re-evaluate assigned names from their source (gradcheck)
    int depth;
    gb_graph *graph;
} lookup_ctx;

static gb_status eval_in(gb_ws *ws, gb_graph *g, const char *expr, int recompute, int depth, gb_tensor **out);

static gb_tensor *lookup(void *p, const char *name, int len) {
    lookup_ctx *c = p;
    gb_var *v = gb_ws_find(c->ws, name, len);
    if (!v) return NULL;
    if (!c->recompute || !v->expr) return v->t;
    gb_tensor *t = NULL;
    if (c->depth > 16 || eval_in(c->ws, c->graph, v->expr, 1, c->depth + 1, &t) != GB_OK) return v->t;
    return t;
}

static gb_status eval_in(gb_ws *ws, gb_graph *g, const char *expr, int recompute, int depth, gb_tensor **out) {
    lookup_ctx lc = { ws, recompute, depth, g };
    gb_eval_ctx ctx = { .graph = g, .lookup = lookup, .lookup_ctx = &lc };
    return gb_eval_source(&ctx, expr, out);
}

gb_status gb_ws_eval_assign(gb_ws *ws, const char *name, const char *expr, int no_grad) {
    gb_tensor *t;
    int enabled = ws->graph.grad_enabled;
    ws->graph.grad_enabled = !no_grad;
    gb_status s = eval_in(ws, &ws->graph, expr, 0, 0, &t);
    ws->graph.grad_enabled = enabled;
    GB_TRY(s);
    gb_var *v;
    GB_TRY(bind(ws, name, &v));
    size_t len = strlen(expr);
    char *copy = gb_arena_alloc(&ws->store, len + 1);
    if (!copy) return gb_set_error(GB_ERR_NOMEM, "out of memory");
    memcpy(copy, expr, len + 1);
    v->t = t;
    v->expr = copy;
    v->no_grad = no_grad;
    return GB_OK;
}

static gb_status find_var(gb_ws *ws, const char *name, gb_var **out) {
    *out = gb_ws_find(ws, name, (int)strlen(name));
    if (!*out) return gb_set_error(GB_ERR_NAME, "name '%.40s' is not defined", name);
    return GB_OK;
}

gb_status gb_ws_run_backward(gb_ws *ws, const char *name, const float *gradient, int n_gradient,
                             int retain_graph) {
    gb_var *v;
    GB_TRY(find_var(ws, name, &v));
    return gb_backward(&ws->graph, v->t, gradient, n_gradient, retain_graph, &ws->store);
}

gb_status gb_ws_zero_grads(gb_ws *ws) {
    for (int i = 0; i < ws->n_vars; i++) {
        gb_tensor *t = ws->vars[i].t;
        if (t->grad) memset(t->grad, 0, (size_t)t->numel * sizeof(float));
    }
    return GB_OK;
}

// Σ v·f(x) in double: the scalar whose derivative backward(gradient=v) computes.
static gb_status weighted_sum(gb_ws *ws, gb_graph *scratch, const char *expr, const float *v, double *out) {
    gb_tensor *q;
    gb_graph_reset(scratch);
    GB_TRY(eval_in(ws, scratch, expr, 1, 0, &q));
    double s = 0;
    for (int i = 0; i < q->numel; i++) s += (double)(v ? v[i] : 1.0f) * q->data[i];
    *out = s;
    return GB_OK;
}

// Backward of Σ v·Q through a fresh tape: analytic[i] gets what reached leaf
// i (NULL when nothing did). The user's .grad and flows are left as they were.
static gb_status analytic_grads(gb_ws *ws, gb_var *q, const float *gradient, gb_graph *scratch,
                                float **analytic) {
    float *saved_grad[GB_WS_MAX_VARS], *saved_flow[GB_WS_MAX_VARS];
    for (int i = 0; i < ws->n_vars; i++) {
        gb_tensor *t = ws->vars[i].t;
        saved_grad[i] = t->grad;
        saved_flow[i] = t->flow;
        t->grad = t->flow = NULL;
        analytic[i] = NULL;
    }
    gb_tensor *out;
    gb_graph_reset(scratch);
    gb_status s = eval_in(ws, scratch, q->expr, 1, 0, &out);
    if (s == GB_OK && gb_needs_grad(out))
        s = gb_backward(scratch, out, gradient, gradient ? out->numel : 0, 0, &scratch->arena);
    for (int i = 0; i < ws->n_vars; i++) {
        gb_tensor *t = ws->vars[i].t;
        if (s == GB_OK && t->flow && !ws->vars[i].expr) {
            analytic[i] = gb_arena_alloc(&ws->store, (size_t)t->numel * sizeof(float));
            if (analytic[i]) memcpy(analytic[i], t->flow, (size_t)t->numel * sizeof(float));
        }
        t->grad = saved_grad[i];
        t->flow = saved_flow[i];
    }
    return s;
}

// Compares backward's gradients with central differences
//   dL/dx_i ≈ (L(x + h e_i) - L(x - h e_i)) / 2h,   L = Σ v·Q
// for every element of every leaf that requires grad.
static gb_status gradcheck_leaves(gb_ws *ws, gb_var *q, const float *gradient, gb_graph *scratch, double eps) {
    gb_gradcheck *c = &ws->check;
    float *analytic[GB_WS_MAX_VARS];
    GB_TRY(analytic_grads(ws, q, gradient, scratch, analytic));
    for (int li = 0; li < ws->n_vars; li++) {
        gb_tensor *leaf = ws->vars[li].t;
        if (ws->vars[li].expr || !(leaf->flags & GB_REQUIRES_GRAD)) continue;
        for (int i = 0; i < leaf->numel; i++) {
            float x = leaf->data[i];
            double h = eps * fmax(1.0, fabs(x)), lp, lm;
            leaf->data[i] = (float)(x + h);
            gb_status s = weighted_sum(ws, scratch, q->expr, gradient, &lp);
            leaf->data[i] = (float)(x - h);
            if (s == GB_OK) s = weighted_sum(ws, scratch, q->expr, gradient, &lm);
            double step = (double)(float)(x + h) - (double)(float)(x - h);
            leaf->data[i] = x;
            GB_TRY(s);
            double numeric = (lp - lm) / step, an = analytic[li] ? analytic[li][i] : 0.0;
            double diff = fabs(numeric - an);
            if (isnan(diff)) diff = INFINITY;
            if (diff > c->max_abs_diff) c->max_abs_diff = diff;
            if (diff / fmax(1.0, fabs(an)) > c->max_rel_diff) c->max_rel_diff = diff / fmax(1.0, fabs(an));
        }
    }
    return GB_OK;
}

gb_status gb_ws_run_gradcheck(gb_ws *ws, const char *name, const float *gradient, int n_gradient,
                              double eps) {
    gb_var *q;
    GB_TRY(find_var(ws, name, &q));
    if (!q->expr) return gb_set_error(GB_ERR_ARG, "%s is a leaf: gradcheck needs an expression", name);
    if (gradient && n_gradient != q->t->numel)
        return gb_set_error(GB_ERR_SHAPE, "the gradient has %d elements but %s has %d", n_gradient, name, q->t->numel);
    ws->check = (gb_gradcheck){ .done = 1, .tolerance = GB_GRADCHECK_TOLERANCE, .eps = eps > 0 ? eps : GB_GRADCHECK_EPS };
    gb_graph scratch;
    gb_graph_init(&scratch);
    gb_status s = gradcheck_leaves(ws, q, gradient, &scratch, ws->check.eps);
    gb_graph_free(&scratch);
    if (s != GB_OK) ws->check.done = 0;
    return s;
}
