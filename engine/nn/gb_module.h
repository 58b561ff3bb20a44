// gb_module.h: a module tree like torch.nn.Module.
//
// Each module has a type ("Conv2d"), the attribute name its parent gave it
// ("conv1", "0", "downsample"), children in registration order, parameters
// (weight, bias) and buffers (running_mean, running_var, num_batches_tracked)
// in registration order, and a training flag. Everything that walks the tree
// walks it as torch does: a module, then its children in order (pre-order),
// which is the order of named_modules(), named_parameters() and state_dict().
//
// Modules, parameters and buffers live in an arena that the model owns
// (gb_resnet18.h); parameters are leaf tensors whose `name` is their dotted
// path ("layer4.1.bn2.weight").
#ifndef GB_MODULE_H
#define GB_MODULE_H

#include <stdint.h>

#include "../core/gb_sb.h"
#include "../core/gb_tensor.h"
#include "../layers/gb_layers.h"

#define GB_MODULE_MAX_CHILDREN 10

typedef enum gb_module_kind {
    GB_MOD_CONV2D,
    GB_MOD_BATCHNORM2D,
    GB_MOD_RELU,
    GB_MOD_MAXPOOL2D,
    GB_MOD_SEQUENTIAL,
    GB_MOD_BASICBLOCK,
    GB_MOD_ADAPTIVE_AVGPOOL2D,
    GB_MOD_LINEAR,
    GB_MOD_RESNET,
} gb_module_kind;

typedef struct gb_module gb_module;
struct gb_module {
    gb_module_kind kind;
    const char *name;        // attribute name in the parent ("conv1", "0"); "" for the root
    const char *path;        // dotted path from the root ("layer1.0.conv1"); "" for the root
    gb_module *parent;
    gb_module *children[GB_MODULE_MAX_CHILDREN];
    int n_children;
    gb_tensor *params[2];    // weight, bias (registration order); tensor->name = dotted path
    const char *param_names[2];
    int n_params;
    gb_tensor *buffers[2];   // running_mean, running_var (float32)
    const char *buffer_names[2];
    int n_buffers;
    const char *nbt_key;     // "bn1.num_batches_tracked" (BatchNorm2d only; value in bn)
    int training;

    // Configuration, by kind (as the constructor arguments).
    int in_ch, out_ch;       // Conv2d channels, Linear in/out features, BatchNorm features
    int kernel, stride, padding;   // Conv2d, MaxPool2d (square)
    int has_bias;            // Conv2d, Linear
    int inplace;             // ReLU
    double eps, momentum;    // BatchNorm2d, as Python floats (for the repr)
    gb_bn_params bn;         // BatchNorm2d: the same tensors, as the op takes them
    gb_conv2d_weights conv_weights;  // Conv2d: transformed weights (engine/kernels/conv2d_plan.h), freed with the model
    int gated;               // Conv2d: this forward's output feeds a ReLU gate backward reads (forward.c)

    // Set by gb_module_infer_shapes: the output for the last input shape given.
    int out_ndim, out_shape[GB_MAX_DIMS];
};

// --- building -------------------------------------------------------------------
// Each constructor allocates the module and its (zero) tensors from `arena`;
// NULL with an error set when memory runs out. gb_module_add names the child
// and sets the dotted paths of the child's subtree and of its tensors.
gb_module *gb_conv2d_module(gb_arena *arena, int in_ch, int out_ch, int kernel, int stride,
                            int padding, int bias);
gb_module *gb_batchnorm2d_module(gb_arena *arena, int features);
gb_module *gb_relu_module(gb_arena *arena, int inplace);
gb_module *gb_maxpool2d_module(gb_arena *arena, int kernel, int stride, int padding);
gb_module *gb_adaptive_avgpool2d_module(gb_arena *arena);   // output_size=(1, 1)
gb_module *gb_linear_module(gb_arena *arena, int in_features, int out_features, int bias);
gb_module *gb_container_module(gb_arena *arena, gb_module_kind kind);   // Sequential, BasicBlock, ResNet
gb_status gb_module_add(gb_arena *arena, gb_module *parent, const char *name, gb_module *child);
// Dotted paths of m's subtree and of its tensors' names, from m->parent's
// path and m->name (strings from `arena`).
gb_status gb_module_set_paths(gb_arena *arena, gb_module *m);
// Replaces the child called `name` (model.fc = nn.Linear(...)); paths are redone.
gb_status gb_module_replace(gb_arena *arena, gb_module *parent, const char *name, gb_module *child);

// --- walking --------------------------------------------------------------------
const char *gb_module_type(const gb_module *m);                    // "Conv2d"
gb_module *gb_module_child(const gb_module *m, const char *name);   // NULL if none
// model.get_submodule(path); "" is the module itself. GB_ERR_NAME with torch's
// message ("ResNet has no attribute `layer5`") when a part names nothing.
gb_status gb_module_find(gb_module *root, const char *path, gb_module **out);
typedef void (*gb_module_visit)(gb_module *m, void *ctx);
void gb_module_walk(gb_module *root, gb_module_visit visit, void *ctx);   // named_modules order
// named_parameters(): up to `cap` tensors into `out`; returns how many there are.
int gb_module_parameters(gb_module *root, gb_tensor **out, int cap);
int64_t gb_module_num_params(gb_module *root);   // sum(p.numel() for p in m.parameters())

// One state_dict entry: a float tensor, or the int64 num_batches_tracked.
typedef struct gb_state_item {
    const char *key;         // "layer1.0.bn1.running_mean"
    gb_tensor *t;            // NULL for num_batches_tracked
    int64_t *i64;            // &bn.num_batches_tracked, else NULL
} gb_state_item;
// state_dict() in torch's order; with include_nbt 0 the num_batches_tracked
// entries are left out (older checkpoints). Returns how many there are.
int gb_module_state_items(gb_module *root, int include_nbt, gb_state_item *out, int cap);

// --- printing -------------------------------------------------------------------
// print(module): torch's Module.__repr__ with extra_repr, indented as torch does.
void gb_module_repr(const gb_module *m, gb_sb *sb);
// for child in model.children(): print(child)   (each followed by a newline)
void gb_module_children_repr(const gb_module *m, gb_sb *sb);
void gb_module_extra_repr(const gb_module *m, gb_sb *sb);   // "64, eps=1e-05, ..."
// The tree as JSON for the page: per module name, path, type, extra_repr,
// training, num_params, trainable_params, output_shape (from the last
// gb_module_infer_shapes), parameters [{name, shape, numel, requires_grad,
// has_grad, grad_norm (‖.grad‖₂ in double; null when .grad is None)}],
// children [...].
void gb_module_json(const gb_module *m, gb_sb *sb);

// --- training state -------------------------------------------------------------
void gb_module_train(gb_module *m, int mode);   // model.train(mode); eval() is train(0)
// for p in get_submodule(path).parameters(): p.requires_grad = on.
// `path` may also name one parameter ("fc.weight"). "" is the whole model.
gb_status gb_module_set_requires_grad(gb_module *root, const char *path, int on);
// How many parameters under `path` require grad, and how many there are.
gb_status gb_module_count_requires_grad(gb_module *root, const char *path, int *n_on, int *n_total);
// The parameters a backward through the whole model would give a .grad:
// those that require grad (every parameter takes part in the forward).
// Returns how many; up to `cap` dotted names into `names`.
int gb_module_params_getting_grad(gb_module *root, const char **names, int cap);

// Output shapes of every module for an input of `in_shape` (ResNet's data
// flow: Sequential chains, BasicBlock conv-bn-relu-conv-bn, flatten before a
// Linear). GB_ERR_SHAPE when the input cannot flow through.
gb_status gb_module_infer_shapes(gb_module *m, int ndim, const int *in_shape);

#endif
