// module.c: building and walking the module tree (see gb_module.h).
#include "gb_module.h"

#include <stdio.h>
#include <string.h>

static const char *const type_names[] = {
    [GB_MOD_CONV2D] = "Conv2d",         [GB_MOD_BATCHNORM2D] = "BatchNorm2d",
    [GB_MOD_RELU] = "ReLU",             [GB_MOD_MAXPOOL2D] = "MaxPool2d",
    [GB_MOD_SEQUENTIAL] = "Sequential", [GB_MOD_BASICBLOCK] = "BasicBlock",
    [GB_MOD_ADAPTIVE_AVGPOOL2D] = "AdaptiveAvgPool2d",
    [GB_MOD_LINEAR] = "Linear",         [GB_MOD_RESNET] = "ResNet",
};

const char *gb_module_type(const gb_module *m) { return type_names[m->kind]; }

static char *arena_strdup(gb_arena *arena, const char *s) {
    size_t n = strlen(s) + 1;
    char *p = gb_arena_alloc(arena, n);
    if (p) memcpy(p, s, n);
    return p;
}

static gb_module *new_module(gb_arena *arena, gb_module_kind kind) {
    gb_module *m = gb_arena_alloc(arena, sizeof *m);
    if (!m) { gb_set_error(GB_ERR_NOMEM, "out of memory for a %s", type_names[kind]); return NULL; }
    m->kind = kind;
    m->name = m->path = "";
    m->training = 1;   // torch modules start in training mode
    return m;
}

// A parameter: a leaf that requires grad (nn.Parameter's default).
static int add_tensor(gb_arena *arena, gb_module *m, int is_param, const char *name, int ndim,
                      const int *shape) {
    gb_tensor *t = gb_tensor_new(arena, ndim, shape);
    if (!t) return 0;
    t->name = name;
    if (is_param) {
        t->flags |= GB_REQUIRES_GRAD | GB_NEEDS_GRAD;
        m->param_names[m->n_params] = name;
        m->params[m->n_params++] = t;
    } else {
        m->buffer_names[m->n_buffers] = name;
        m->buffers[m->n_buffers++] = t;
    }
    return 1;
}

gb_module *gb_conv2d_module(gb_arena *arena, int in_ch, int out_ch, int kernel, int stride,
                            int padding, int bias) {
    gb_module *m = new_module(arena, GB_MOD_CONV2D);
    if (!m) return NULL;
    *m = (gb_module){ .kind = GB_MOD_CONV2D, .name = "", .path = "", .training = 1, .in_ch = in_ch,
                      .out_ch = out_ch, .kernel = kernel, .stride = stride, .padding = padding,
                      .has_bias = bias };
    const int wshape[4] = { out_ch, in_ch, kernel, kernel };   // (OC, C, KH, KW)
    if (!add_tensor(arena, m, 1, "weight", 4, wshape)) return NULL;
    if (bias && !add_tensor(arena, m, 1, "bias", 1, &out_ch)) return NULL;
    return m;
}

gb_module *gb_batchnorm2d_module(gb_arena *arena, int features) {
    gb_module *m = new_module(arena, GB_MOD_BATCHNORM2D);
    if (!m) return NULL;
    m->in_ch = m->out_ch = features;
    m->eps = 1e-5;
    m->momentum = 0.1;
    if (!add_tensor(arena, m, 1, "weight", 1, &features) || !add_tensor(arena, m, 1, "bias", 1, &features) ||
        !add_tensor(arena, m, 0, "running_mean", 1, &features) ||
        !add_tensor(arena, m, 0, "running_var", 1, &features))
        return NULL;
    // reset_parameters / reset_running_stats: γ = 1, β = 0, mean 0, var 1.
    for (int c = 0; c < features; c++) m->params[0]->data[c] = m->buffers[1]->data[c] = 1.0f;
    m->nbt_key = "num_batches_tracked";
    m->bn = (gb_bn_params){ .weight = m->params[0], .bias = m->params[1], .running_mean = m->buffers[0],
                            .running_var = m->buffers[1], .eps = (float)m->eps, .momentum = (float)m->momentum };
    return m;
}

gb_module *gb_relu_module(gb_arena *arena, int inplace) {
    gb_module *m = new_module(arena, GB_MOD_RELU);
    if (m) m->inplace = inplace;
    return m;
}

gb_module *gb_maxpool2d_module(gb_arena *arena, int kernel, int stride, int padding) {
    gb_module *m = new_module(arena, GB_MOD_MAXPOOL2D);
    if (m) { m->kernel = kernel; m->stride = stride; m->padding = padding; }
    return m;
}

gb_module *gb_adaptive_avgpool2d_module(gb_arena *arena) { return new_module(arena, GB_MOD_ADAPTIVE_AVGPOOL2D); }

gb_module *gb_linear_module(gb_arena *arena, int in_features, int out_features, int bias) {
    gb_module *m = new_module(arena, GB_MOD_LINEAR);
    if (!m) return NULL;
    m->in_ch = in_features;
    m->out_ch = out_features;
    m->has_bias = bias;
    const int wshape[2] = { out_features, in_features };
    if (!add_tensor(arena, m, 1, "weight", 2, wshape)) return NULL;
    if (bias && !add_tensor(arena, m, 1, "bias", 1, &out_features)) return NULL;
    return m;
}

gb_module *gb_container_module(gb_arena *arena, gb_module_kind kind) {
    GB_ASSERT(kind == GB_MOD_SEQUENTIAL || kind == GB_MOD_BASICBLOCK || kind == GB_MOD_RESNET, "kind %d", kind);
    return new_module(arena, kind);
}

// "prefix.name", or "name" at the root.
static const char *join(gb_arena *arena, const char *prefix, const char *name) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s%s%s", prefix, prefix[0] ? "." : "", name);
    return arena_strdup(arena, buf);
}

// Dotted paths of m's subtree and tensors, after m moved under `parent`.
gb_status gb_module_set_paths(gb_arena *arena, gb_module *m) {
    m->path = m->parent ? join(arena, m->parent->path, m->name) : "";
    if (!m->path) return gb_set_error(GB_ERR_NOMEM, "out of memory for a module path");
    for (int i = 0; i < m->n_params; i++)
        if (!(m->params[i]->name = join(arena, m->path, m->param_names[i]))) return GB_ERR_NOMEM;
    for (int i = 0; i < m->n_buffers; i++)
        if (!(m->buffers[i]->name = join(arena, m->path, m->buffer_names[i]))) return GB_ERR_NOMEM;
    if (m->kind == GB_MOD_BATCHNORM2D && !(m->nbt_key = join(arena, m->path, "num_batches_tracked")))
        return GB_ERR_NOMEM;
    for (int i = 0; i < m->n_children; i++) GB_TRY(gb_module_set_paths(arena, m->children[i]));
    return GB_OK;
}

gb_status gb_module_add(gb_arena *arena, gb_module *parent, const char *name, gb_module *child) {
    GB_ASSERT(parent->n_children < GB_MODULE_MAX_CHILDREN, "too many children in %s", parent->path);
    GB_ASSERT(!gb_module_child(parent, name), "a child called %s already", name);
    if (!(child->name = arena_strdup(arena, name))) return gb_set_error(GB_ERR_NOMEM, "out of memory");
    child->parent = parent;
    parent->children[parent->n_children++] = child;
    return gb_module_set_paths(arena, child);
}

gb_status gb_module_replace(gb_arena *arena, gb_module *parent, const char *name, gb_module *child) {
    for (int i = 0; i < parent->n_children; i++) {
        if (strcmp(parent->children[i]->name, name) != 0) continue;
        if (!(child->name = arena_strdup(arena, name))) return gb_set_error(GB_ERR_NOMEM, "out of memory");
        child->parent = parent;
        parent->children[i] = child;   // same place: named_modules order unchanged, as in torch
        return gb_module_set_paths(arena, child);
    }
    return gb_module_add(arena, parent, name, child);
}

gb_module *gb_module_child(const gb_module *m, const char *name) {
    for (int i = 0; i < m->n_children; i++)
        if (strcmp(m->children[i]->name, name) == 0) return m->children[i];
    return NULL;
}

gb_status gb_module_find(gb_module *root, const char *path, gb_module **out) {
    gb_module *m = root;
    const char *p = path;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        char part[64];
        if (len >= sizeof part) len = sizeof part - 1;
        memcpy(part, p, len);
        part[len] = '\0';
        gb_module *c = gb_module_child(m, part);
        if (!c) return gb_set_error(GB_ERR_NAME, "%s has no attribute `%s`", gb_module_type(m), part);
        m = c;
        p = dot ? dot + 1 : p + len;
    }
    *out = m;
    return GB_OK;
}

void gb_module_walk(gb_module *root, gb_module_visit visit, void *ctx) {
    visit(root, ctx);
    for (int i = 0; i < root->n_children; i++) gb_module_walk(root->children[i], visit, ctx);
}

typedef struct collect_ctx {
    gb_tensor **out;
    int n, cap;
} collect_ctx;

static void collect_params(gb_module *m, void *ctx) {
    collect_ctx *c = ctx;
    for (int i = 0; i < m->n_params; i++, c->n++)
        if (c->n < c->cap) c->out[c->n] = m->params[i];
}

int gb_module_parameters(gb_module *root, gb_tensor **out, int cap) {
    collect_ctx c = { out, 0, cap };
    gb_module_walk(root, collect_params, &c);
    return c.n;
}

static void count_params(gb_module *m, void *ctx) {
    for (int i = 0; i < m->n_params; i++) *(int64_t *)ctx += m->params[i]->numel;
}

int64_t gb_module_num_params(gb_module *root) {
    int64_t n = 0;
    gb_module_walk(root, count_params, &n);
    return n;
}

typedef struct state_ctx {
    gb_state_item *out;
    int n, cap, include_nbt;
} state_ctx;

static void push_item(state_ctx *c, gb_state_item item) {
    if (c->n < c->cap) c->out[c->n] = item;
    c->n++;
}

// Module._save_to_state_dict: parameters, then buffers, then the children.
static void collect_state(gb_module *m, void *ctx) {
    state_ctx *c = ctx;
    for (int i = 0; i < m->n_params; i++) push_item(c, (gb_state_item){ m->params[i]->name, m->params[i], NULL });
    for (int i = 0; i < m->n_buffers; i++) push_item(c, (gb_state_item){ m->buffers[i]->name, m->buffers[i], NULL });
    if (m->kind == GB_MOD_BATCHNORM2D && c->include_nbt)
        push_item(c, (gb_state_item){ m->nbt_key, NULL, &m->bn.num_batches_tracked });
}

int gb_module_state_items(gb_module *root, int include_nbt, gb_state_item *out, int cap) {
    state_ctx c = { out, 0, cap, include_nbt };
    gb_module_walk(root, collect_state, &c);
    return c.n;
}
