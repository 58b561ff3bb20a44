// module_train.c: train/eval, freezing (requires_grad by path), and the
// output shape of every module for a given input.
#include <string.h>

#include "gb_module.h"

void gb_module_train(gb_module *m, int mode) {
    m->training = mode != 0;
    for (int i = 0; i < m->n_children; i++) gb_module_train(m->children[i], mode);
}

// A parameter is a leaf: requires_grad and "needs grad" are the same flag pair.
// Clearing both is what makes freezing cheap: no op output that depends only
// on frozen parameters (and a constant input) needs a gradient, so backward
// never walks into the frozen part of the network.
static void set_flag(gb_tensor *p, int on) {
    if (on) p->flags |= GB_REQUIRES_GRAD | GB_NEEDS_GRAD;
    else p->flags &= ~(unsigned)(GB_REQUIRES_GRAD | GB_NEEDS_GRAD);
}

static void set_all(gb_module *m, void *ctx) {
    for (int i = 0; i < m->n_params; i++) set_flag(m->params[i], *(int *)ctx);
}

// `path` names a parameter ("fc.weight")? Its module and index, else -1.
static int find_param(gb_module *root, const char *path, gb_module **owner) {
    const char *dot = strrchr(path, '.');
    const char *leaf = dot ? dot + 1 : path;
    char prefix[256];
    size_t len = dot ? (size_t)(dot - path) : 0;
    if (len >= sizeof prefix) return -1;
    memcpy(prefix, path, len);
    prefix[len] = '\0';
    gb_module *m;
    if (gb_module_find(root, prefix, &m) != GB_OK) return -1;
    for (int i = 0; i < m->n_params; i++)
        if (strcmp(m->param_names[i], leaf) == 0) { *owner = m; return i; }
    return -1;
}

gb_status gb_module_set_requires_grad(gb_module *root, const char *path, int on) {
    gb_module *owner;
    int i = find_param(root, path, &owner);
    if (i >= 0) { set_flag(owner->params[i], on); return GB_OK; }
    gb_module *m;
    GB_TRY(gb_module_find(root, path, &m));
    gb_module_walk(m, set_all, &on);
    return GB_OK;
}

typedef struct rg_count { int on, total; } rg_count;

static void count_rg(gb_module *m, void *ctx) {
    rg_count *c = ctx;
    for (int i = 0; i < m->n_params; i++) {
        c->total++;
        c->on += (m->params[i]->flags & GB_REQUIRES_GRAD) != 0;
    }
}

gb_status gb_module_count_requires_grad(gb_module *root, const char *path, int *n_on, int *n_total) {
    rg_count c = { 0, 0 };
    gb_module *owner;
    int i = find_param(root, path, &owner);
    if (i >= 0) {
        c.total = 1;
        c.on = (owner->params[i]->flags & GB_REQUIRES_GRAD) != 0;
    } else {
        gb_module *m;
        GB_TRY(gb_module_find(root, path, &m));
        gb_module_walk(m, count_rg, &c);
    }
    *n_on = c.on;
    *n_total = c.total;
    return GB_OK;
}

typedef struct grad_names { const char **names; int n, cap; } grad_names;

static void list_rg(gb_module *m, void *ctx) {
    grad_names *g = ctx;
    for (int i = 0; i < m->n_params; i++) {
        if (!(m->params[i]->flags & GB_REQUIRES_GRAD)) continue;
        if (g->n < g->cap) g->names[g->n] = m->params[i]->name;
        g->n++;
    }
}

int gb_module_params_getting_grad(gb_module *root, const char **names, int cap) {
    grad_names g = { names, 0, cap };
    gb_module_walk(root, list_rg, &g);
    return g.n;
}

// --- shapes ----------------------------------------------------------------------

static void set_out(gb_module *m, int ndim, const int *shape) {
    m->out_ndim = ndim;
    memcpy(m->out_shape, shape, sizeof(int) * (size_t)ndim);
}

// Output side of a k×k window with this stride and padding (floor mode).
static int window_out(int in, int k, int stride, int padding) { return (in + 2 * padding - k) / stride + 1; }

static gb_status leaf_shape(gb_module *m, int ndim, const int *in) {
    int out[GB_MAX_DIMS];
    memcpy(out, in, sizeof(int) * (size_t)ndim);
    switch (m->kind) {
    case GB_MOD_CONV2D:
    case GB_MOD_MAXPOOL2D:
        if (ndim != 4 || (m->kind == GB_MOD_CONV2D && in[1] != m->in_ch))
            return gb_set_error(GB_ERR_SHAPE, "%s at '%s' expects (N, %d, H, W)", gb_module_type(m), m->path, m->in_ch);
        if (in[2] + 2 * m->padding < m->kernel || in[3] + 2 * m->padding < m->kernel)
            return gb_set_error(GB_ERR_SHAPE, "input %dx%d is smaller than the kernel at '%s'", in[2], in[3], m->path);
        if (m->kind == GB_MOD_CONV2D) out[1] = m->out_ch;
        out[2] = window_out(in[2], m->kernel, m->stride, m->padding);
        out[3] = window_out(in[3], m->kernel, m->stride, m->padding);
        break;
    case GB_MOD_BATCHNORM2D:
        if (ndim != 4 || in[1] != m->in_ch)
            return gb_set_error(GB_ERR_SHAPE, "BatchNorm2d at '%s' expects (N, %d, H, W)", m->path, m->in_ch);
        break;
    case GB_MOD_ADAPTIVE_AVGPOOL2D:
        if (ndim != 4) return gb_set_error(GB_ERR_SHAPE, "AdaptiveAvgPool2d at '%s' expects (N, C, H, W)", m->path);
        out[2] = out[3] = 1;
        break;
    case GB_MOD_LINEAR:
        if (ndim != 2 || in[1] != m->in_ch)
            return gb_set_error(GB_ERR_SHAPE, "Linear at '%s' expects (N, %d)", m->path, m->in_ch);
        out[1] = m->out_ch;
        break;
    default:
        break;   // ReLU keeps the shape
    }
    set_out(m, ndim, out);
    return GB_OK;
}

gb_status gb_module_infer_shapes(gb_module *m, int ndim, const int *in_shape) {
    if (m->n_children == 0) return leaf_shape(m, ndim, in_shape);
    int cur[GB_MAX_DIMS], cur_ndim = ndim;
    memcpy(cur, in_shape, sizeof(int) * (size_t)ndim);
    for (int i = 0; i < m->n_children; i++) {
        gb_module *c = m->children[i];
        if (m->kind == GB_MOD_BASICBLOCK && strcmp(c->name, "downsample") == 0) {
            GB_TRY(gb_module_infer_shapes(c, ndim, in_shape));   // the shortcut sees the block's input
            continue;
        }
        if (c->kind == GB_MOD_LINEAR && cur_ndim == 4) {   // torch.flatten(x, 1)
            cur[1] *= cur[2] * cur[3];
            cur_ndim = 2;
        }
        GB_TRY(gb_module_infer_shapes(c, cur_ndim, cur));
        cur_ndim = c->out_ndim;
        memcpy(cur, c->out_shape, sizeof cur);
    }
    set_out(m, cur_ndim, cur);
    return GB_OK;
}
