// resnet18.c: torchvision's resnet18: construction, init, the head swap.
// Module names and registration order are torchvision 0.14's, so that
// print(model), named_parameters() and state_dict() match it exactly.
#include "gb_resnet18.h"

#include <math.h>
#include <string.h>

// BasicBlock(inplanes, planes, stride, downsample): conv3x3 → bn → relu →
// conv3x3 → bn, plus the shortcut. `ds` is built first, as _make_layer does.
static gb_module *basic_block(gb_arena *a, int inplanes, int planes, int stride, gb_module *ds) {
    gb_module *b = gb_container_module(a, GB_MOD_BASICBLOCK);
    if (!b) return NULL;
    gb_module *conv1 = gb_conv2d_module(a, inplanes, planes, 3, stride, 1, 0);
    gb_module *bn1 = gb_batchnorm2d_module(a, planes);
    gb_module *relu = gb_relu_module(a, 1);
    gb_module *conv2 = gb_conv2d_module(a, planes, planes, 3, 1, 1, 0);
    gb_module *bn2 = gb_batchnorm2d_module(a, planes);
    if (!conv1 || !bn1 || !relu || !conv2 || !bn2) return NULL;
    if (gb_module_add(a, b, "conv1", conv1) || gb_module_add(a, b, "bn1", bn1) || gb_module_add(a, b, "relu", relu) ||
        gb_module_add(a, b, "conv2", conv2) || gb_module_add(a, b, "bn2", bn2) ||
        (ds && gb_module_add(a, b, "downsample", ds)))
        return NULL;
    return b;
}

// _make_layer(planes, blocks=2, stride): the first block changes the shape
// (and gets a 1×1 conv + bn shortcut when it does), the second keeps it.
static gb_module *make_layer(gb_arena *a, int inplanes, int planes, int stride) {
    gb_module *ds = NULL;
    if (stride != 1 || inplanes != planes) {
        ds = gb_container_module(a, GB_MOD_SEQUENTIAL);
        gb_module *conv = gb_conv2d_module(a, inplanes, planes, 1, stride, 0, 0);
        gb_module *bn = gb_batchnorm2d_module(a, planes);
        if (!ds || !conv || !bn || gb_module_add(a, ds, "0", conv) || gb_module_add(a, ds, "1", bn)) return NULL;
    }
    gb_module *layer = gb_container_module(a, GB_MOD_SEQUENTIAL);
    gb_module *b0 = basic_block(a, inplanes, planes, stride, ds);
    gb_module *b1 = basic_block(a, planes, planes, 1, NULL);
    if (!layer || !b0 || !b1 || gb_module_add(a, layer, "0", b0) || gb_module_add(a, layer, "1", b1)) return NULL;
    return layer;
}

gb_status gb_resnet18_new(gb_model *m, int num_classes) {
    if (num_classes < 1 || num_classes > 100000)
        return gb_set_error(GB_ERR_ARG, "num_classes must be between 1 and 100000, not %d", num_classes);
    memset(m, 0, sizeof *m);
    // Small blocks: a tensor larger than a block gets a block of its own
    // size, and a block's tail goes to the smaller tensors after it (8 MB
    // blocks left 8 MB of tails under ResNet-18's 45 MB, at every step's peak).
    gb_arena_init(&m->arena, 256u << 10);
    gb_arena_init(&m->head_arena, 256u << 10);
    gb_arena_init(&m->grad_arena, 256u << 10);
    gb_arena *a = &m->arena;
    gb_module *r = m->root = gb_container_module(a, GB_MOD_RESNET);
    if (!r) goto oom;
    static const char *const layer_names[4] = { "layer1", "layer2", "layer3", "layer4" };
    gb_module *conv1 = gb_conv2d_module(a, 3, 64, 7, 2, 3, 0);
    gb_module *bn1 = gb_batchnorm2d_module(a, 64);
    gb_module *relu = gb_relu_module(a, 1);
    gb_module *maxpool = gb_maxpool2d_module(a, 3, 2, 1);
    if (!conv1 || !bn1 || !relu || !maxpool || gb_module_add(a, r, "conv1", conv1) || gb_module_add(a, r, "bn1", bn1) ||
        gb_module_add(a, r, "relu", relu) || gb_module_add(a, r, "maxpool", maxpool))
        goto oom;
    for (int i = 0, inplanes = 64; i < 4; i++) {
        int planes = 64 << i;
        gb_module *layer = make_layer(a, inplanes, planes, i == 0 ? 1 : 2);
        if (!layer || gb_module_add(a, r, layer_names[i], layer)) goto oom;
        inplanes = planes;
    }
    gb_module *avgpool = gb_adaptive_avgpool2d_module(a);
    gb_module *fc = gb_linear_module(&m->head_arena, 512, num_classes, 1);
    if (!avgpool || !fc || gb_module_add(a, r, "avgpool", avgpool) || gb_module_add(&m->head_arena, r, "fc", fc))
        goto oom;
    return GB_OK;
oom:
    gb_resnet18_free(m);
    return gb_set_error(GB_ERR_NOMEM, "out of memory building resnet18");
}

static void free_conv_cache(gb_module *m, void *ctx) {
    (void)ctx;
    if (m->kind == GB_MOD_CONV2D) gb_conv2d_weights_free(&m->conv_weights);
}

void gb_resnet18_free(gb_model *m) {
    if (m->root) gb_module_walk(m->root, free_conv_cache, NULL);
    gb_arena_free(&m->arena);
    gb_arena_free(&m->head_arena);
    gb_arena_free(&m->grad_arena);
    m->root = NULL;
}

// --- init ----------------------------------------------------------------------

void gb_conv2d_reset_parameters(gb_module *conv, gb_generator *gen) {
    GB_ASSERT(conv->kind == GB_MOD_CONV2D && !conv->has_bias, "a bias-free Conv2d");
    gb_tensor *w = conv->params[0];
    gb_kaiming_uniform_(gen, w->data, w->ndim, w->shape, sqrt(5.0));
}

void gb_linear_reset_parameters(gb_module *linear, gb_generator *gen) {
    GB_ASSERT(linear->kind == GB_MOD_LINEAR, "a Linear");
    gb_tensor *w = linear->params[0];
    // kaiming_uniform_(a=√5) is uniform(±1/√fan_in): the gain √(1/3) cancels √3.
    gb_kaiming_uniform_(gen, w->data, w->ndim, w->shape, sqrt(5.0));
    if (linear->has_bias) {
        int64_t fan_in, fan_out;
        gb_fans(w->ndim, w->shape, &fan_in, &fan_out);
        double bound = fan_in > 0 ? 1.0 / sqrt((double)fan_in) : 0.0;
        gb_uniform_(gen, linear->params[1]->data, linear->params[1]->numel, -bound, bound);
    }
}

// The draws of construction, in construction order: in each BasicBlock
// conv1 then conv2, but a layer's downsample conv is made before its first
// block, so it draws first.
static void construction_draws(gb_module *mod, gb_generator *gen) {
    if (mod->kind == GB_MOD_CONV2D) { gb_conv2d_reset_parameters(mod, gen); return; }
    if (mod->kind == GB_MOD_LINEAR) { gb_linear_reset_parameters(mod, gen); return; }
    if (mod->kind == GB_MOD_BASICBLOCK) {
        gb_module *ds = gb_module_child(mod, "downsample");
        if (ds) construction_draws(ds, gen);
    }
    for (int i = 0; i < mod->n_children; i++)
        if (strcmp(mod->children[i]->name, "downsample") != 0 || mod->kind != GB_MOD_BASICBLOCK)
            construction_draws(mod->children[i], gen);
}

// torchvision's loop over self.modules(), in named_modules order.
static void torchvision_init(gb_module *mod, void *ctx) {
    gb_generator *gen = ctx;
    if (mod->kind == GB_MOD_CONV2D) {
        gb_tensor *w = mod->params[0];
        gb_kaiming_normal_fan_out_relu_(gen, w->data, w->ndim, w->shape);
        w->version++;   // new values: derived caches (Winograd, packed weights) are stale
    } else if (mod->kind == GB_MOD_BATCHNORM2D) {
        for (int c = 0; c < mod->in_ch; c++) {
            mod->params[0]->data[c] = 1.0f;
            mod->params[1]->data[c] = 0.0f;
        }
    }
}

gb_status gb_resnet18_init(gb_model *m, gb_generator *gen, uint64_t seed) {
    gb_generator local;
    if (!gen) { gen = &local; gb_generator_seed(gen, seed); }
    construction_draws(m->root, gen);
    gb_module_walk(m->root, torchvision_init, gen);
    return GB_OK;
}

gb_status gb_resnet18_replace_fc(gb_model *m, int num_classes, gb_generator *gen, uint64_t seed) {
    if (num_classes < 1 || num_classes > 100000)
        return gb_set_error(GB_ERR_ARG, "out_features must be between 1 and 100000, not %d", num_classes);
    int slot = -1;
    for (int i = 0; i < m->root->n_children; i++)
        if (strcmp(m->root->children[i]->name, "fc") == 0) slot = i;
    GB_ASSERT(slot >= 0 && m->root->children[slot]->kind == GB_MOD_LINEAR, "resnet18 has an fc");
    int in_features = m->root->children[slot]->in_ch;
    m->root->children[slot] = NULL;
    gb_arena_free(&m->head_arena);   // the old head and its names go, and its blocks (ImageNet's fc: 2 MB)
    gb_module *fc = gb_linear_module(&m->head_arena, in_features, num_classes, 1);
    if (!fc) return gb_set_error(GB_ERR_NOMEM, "out of memory for the new fc");
    gb_generator local;
    if (!gen) { gen = &local; gb_generator_seed(gen, seed); }
    gb_linear_reset_parameters(fc, gen);
    // model.fc = ...: the same place among the children, as a dict assignment.
    fc->name = "fc";
    fc->parent = m->root;
    m->root->children[slot] = fc;
    return gb_module_set_paths(&m->head_arena, fc);
}

// --- gradients -------------------------------------------------------------------

static void any_grad(gb_module *mod, void *ctx) {
    for (int i = 0; i < mod->n_params; i++)
        if (mod->params[i]->grad) *(int *)ctx = 1;
}

gb_status gb_model_backward(gb_model *m, gb_graph *g, gb_tensor *loss) {
    int held = 0;
    gb_module_walk(m->root, any_grad, &held);
    if (!held) gb_arena_reset(&m->grad_arena);   // nothing lives there any more
    return gb_backward(g, loss, NULL, 0, 0, &m->grad_arena);
}

static void zero_grad(gb_module *mod, void *ctx) {
    int set_to_none = *(int *)ctx;
    for (int i = 0; i < mod->n_params; i++) {
        gb_tensor *p = mod->params[i];
        if (set_to_none) p->grad = NULL;
        else if (p->grad) memset(p->grad, 0, sizeof(float) * (size_t)p->numel);
    }
}

void gb_model_zero_grad(gb_model *m, int set_to_none) {
    gb_module_walk(m->root, zero_grad, &set_to_none);
    if (set_to_none) gb_arena_reset(&m->grad_arena);
}
