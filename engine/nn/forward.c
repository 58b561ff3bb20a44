// forward.c: ResNet-18's forward, torchvision's _forward_impl, from the ops of
// gb_layers.h. Every op records itself on the tape when a gradient is needed,
// so the frozen part of the network costs forward time only.
// Memory is the graph's (core/gb_plan.h): in a planned step each tensor's
// bytes are reused once its last reader has run, and the ReLUs work in place
// as torchvision's (inplace=True) do; nothing here frees anything.
#include <string.h>

#include "gb_resnet18.h"

// One leaf module on x.
static gb_status leaf_forward(gb_module *m, gb_graph *g, gb_tensor *x, gb_tensor **y) {
    switch (m->kind) {
    case GB_MOD_CONV2D:
        GB_ASSERT(!m->has_bias, "ResNet's convolutions have no bias");
        return gb_conv2d_cached(g, x, m->params[0], m->stride, m->padding, &m->conv_weights,
                                m->training || m->gated, y);
    case GB_MOD_BATCHNORM2D:
        return gb_batchnorm2d(g, x, &m->bn, m->training, y);
    case GB_MOD_RELU:
        return m->inplace ? gb_relu_(g, x, y) : gb_relu(g, x, y);
    case GB_MOD_MAXPOOL2D:
        return gb_maxpool2d(g, x, m->kernel, m->stride, m->padding, y);
    case GB_MOD_ADAPTIVE_AVGPOOL2D:
        return gb_adaptive_avgpool1(g, x, y);
    case GB_MOD_LINEAR:
        return gb_linear(g, x, m->params[0], m->has_bias ? m->params[1] : NULL, y);
    default:
        GB_ASSERT(0, "%s is not a leaf module", gb_module_type(m));
    }
    return GB_OK;
}

static gb_status run(gb_module *m, gb_graph *g, gb_tensor *x, gb_tensor **y);
static gb_status run_leaf(gb_module *m, gb_graph *g, gb_tensor *x, gb_tensor **y);
static gb_status conv_bn(gb_module *conv, gb_module *bn, gb_module *relu, gb_graph *g, gb_tensor *x,
                         gb_tensor **y);

// BasicBlock.forward:
//   out = relu(bn1(conv1(x)));  out = bn2(conv2(out))
//   out = relu(out + (downsample(x) if downsample else x))
static gb_status block_forward(gb_module *b, gb_graph *g, gb_tensor *x, gb_tensor **y) {
    gb_tensor *out, *identity = x;
    gb_module *relu = gb_module_child(b, "relu");
    GB_TRY(conv_bn(gb_module_child(b, "conv1"), gb_module_child(b, "bn1"), relu, g, x, &out));
    GB_TRY(conv_bn(gb_module_child(b, "conv2"), gb_module_child(b, "bn2"), NULL, g, out, &out));
    gb_module *ds = gb_module_child(b, "downsample");
    if (ds && ds->n_children == 2 && ds->children[0]->kind == GB_MOD_CONV2D &&
        ds->children[1]->kind == GB_MOD_BATCHNORM2D)
        GB_TRY(conv_bn(ds->children[0], ds->children[1], NULL, g, x, &identity));
    else if (ds)
        GB_TRY(run(ds, g, x, &identity));
    if (gb_resnet18_fuse && gb_shape_equal(out, identity) &&
        !(g->grad_enabled && (gb_needs_grad(out) || gb_needs_grad(identity))))
        return gb_add_relu_nograd(g, out, identity, y);   // one pass at inference, the same bits
    GB_TRY(gb_add(g, out, identity, &out));
    return run_leaf(relu, g, out, y);
}

// Profiling builds (bench/layers.mjs) time each leaf and each block under
// "module <path>" (gb_pool.h); the others call the forwards straight.
#ifdef GB_PROFILE_PASSES
#include <stdio.h>
#include "../threads/gb_pool.h"
typedef gb_status (*module_forward)(gb_module *, gb_graph *, gb_tensor *, gb_tensor **);
static gb_status timed(module_forward f, gb_module *m, gb_graph *g, gb_tensor *x, gb_tensor **y) {
    const double t0 = gb_now_ms();
    const gb_status st = f(m, g, x, y);
    char name[48];
    snprintf(name, sizeof name, "module %s", m->path);
    gb_pool_passes_add(name, gb_now_ms() - t0);
    return st;
}
static gb_status run_leaf(gb_module *m, gb_graph *g, gb_tensor *x, gb_tensor **y) {
    return timed(leaf_forward, m, g, x, y);
}
static gb_status basic_block(gb_module *m, gb_graph *g, gb_tensor *x, gb_tensor **y) {
    return timed(block_forward, m, g, x, y);
}
#else
static gb_status run_leaf(gb_module *m, gb_graph *g, gb_tensor *x, gb_tensor **y) { return leaf_forward(m, g, x, y); }
static gb_status basic_block(gb_module *m, gb_graph *g, gb_tensor *x, gb_tensor **y) {
    return block_forward(m, g, x, y);
}
#endif

// conv, bn, then relu (if not NULL): in one pass where no gradient goes
// through and bn is in eval mode (gb_conv2d_bn_eval: the BatchNorm and the
// ReLU run as the conv stores its output, the same bits), else op by op.
// Profiling builds time the fused pass under the conv's path.
int gb_resnet18_fuse = 1;

static gb_status conv_bn(gb_module *conv, gb_module *bn, gb_module *relu, gb_graph *g, gb_tensor *x,
                         gb_tensor **y) {
    if (!gb_resnet18_fuse || conv->has_bias ||
        !gb_conv2d_bn_eval_ok(g, x, conv->params[0], &bn->bn, bn->training)) {
        GB_TRY(run_leaf(conv, g, x, y));
        GB_TRY(run_leaf(bn, g, *y, y));
        return relu ? run_leaf(relu, g, *y, y) : GB_OK;
    }
#ifdef GB_PROFILE_PASSES
    const double t0 = gb_now_ms();
    char name[48];
    snprintf(name, sizeof name, "module %s", conv->path);
#endif
    const gb_status st = gb_conv2d_bn_eval(g, x, conv->params[0], conv->stride, conv->padding, &conv->conv_weights,
                                           conv->training || conv->gated, &bn->bn, relu != NULL, y);
#ifdef GB_PROFILE_PASSES
    gb_pool_passes_add(name, gb_now_ms() - t0);
#endif
    return st;
}

// Sequential and ResNet run their children in order; ResNet flattens before
// fc (a view).
static gb_status run(gb_module *m, gb_graph *g, gb_tensor *x, gb_tensor **y) {
    if (m->kind == GB_MOD_BASICBLOCK) return basic_block(m, g, x, y);
    if (m->n_children == 0) return run_leaf(m, g, x, y);
    gb_tensor *cur = x;
    for (int i = 0; i < m->n_children; i++) {
        gb_module *c = m->children[i];
        if (m->kind == GB_MOD_RESNET && c->kind == GB_MOD_LINEAR) GB_TRY(gb_flatten(g, cur, &cur));
        GB_TRY(run(c, g, cur, &cur));
    }
    *y = cur;
    return GB_OK;
}

// Will backward pass through a ReLU? In torchvision's resnet18 every
// parameter but fc's comes before the last ReLU, so: does the input or any
// parameter outside a Linear need a gradient.
static void find_gated(gb_module *m, void *gated) {
    if (m->kind == GB_MOD_LINEAR) return;
    for (int i = 0; i < m->n_params; i++) *(int *)gated |= gb_needs_grad(m->params[i]);
}

// Tells each convolution whether backward will read a ReLU gate after it;
// with train mode (BatchNorm on batch statistics) that is what its forward
// must compute exactly (engine/kernels/conv2d_plan.c says how).
static void set_gated(gb_module *m, void *gated) {
    if (m->kind == GB_MOD_CONV2D) m->gated = *(const int *)gated;
}

// Checks x and tells each convolution what this forward needs.
static gb_status prepare(gb_model *m, gb_graph *g, gb_tensor *x) {
    if (x->ndim != 4 || x->shape[1] != 3) {
        char buf[64];
        return gb_set_error(GB_ERR_SHAPE, "resnet18 expects images of shape (N, 3, H, W), got %s",
                            gb_shape_str(x->ndim, x->shape, buf, sizeof buf));
    }
    GB_TRY(gb_module_infer_shapes(m->root, 4, x->shape));   // a readable error before any work
    int gated = gb_needs_grad(x);
    gb_module_walk(m->root, find_gated, &gated);
    gated &= g->grad_enabled;
    gb_module_walk(m->root, set_gated, &gated);
    return GB_OK;
}

// The children before fc (conv1 ... avgpool), then torch.flatten(x, 1):
// fc's input. The one code path of both exports below, so the features a
// cache keeps are the very bits the full forward feeds fc
// (tests/resnet/finetune-engine.test.mjs, "features").
static gb_status backbone(gb_model *m, gb_graph *g, gb_tensor *x, gb_tensor **feats) {
    gb_module *root = m->root;
    GB_ASSERT(root->n_children == 10 && root->children[9]->kind == GB_MOD_LINEAR, "resnet18 ends with fc");
    gb_tensor *cur = x;
    int i = 0;
    gb_module *const *c = root->children;   // conv1, bn1, relu: the stem, as one pass where it can
    if (c[0]->kind == GB_MOD_CONV2D && c[1]->kind == GB_MOD_BATCHNORM2D && c[2]->kind == GB_MOD_RELU) {
        GB_TRY(conv_bn(c[0], c[1], c[2], g, cur, &cur));
        i = 3;
    }
    for (; i < 9; i++) GB_TRY(run(c[i], g, cur, &cur));
    return gb_flatten(g, cur, feats);
}

gb_status gb_resnet18_forward(gb_model *m, gb_graph *g, gb_tensor *x, gb_tensor **logits) {
    GB_TRY(prepare(m, g, x));
    gb_tensor *feats;
    GB_TRY(backbone(m, g, x, &feats));
    return run(m->root->children[9], g, feats, logits);
}

gb_status gb_resnet18_features(gb_model *m, gb_graph *g, gb_tensor *x, gb_tensor **feats) {
    GB_TRY(prepare(m, g, x));
    return backbone(m, g, x, feats);
}
