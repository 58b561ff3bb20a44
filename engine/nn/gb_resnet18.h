// gb_resnet18.h: torchvision 0.14's resnet18, module for module.
//
//   ResNet: conv1 7×7/2 → bn1 → relu → maxpool 3×3/2 → layer1..layer4 (two
//   BasicBlocks each; layer2..4 halve H, W and double the channels, their
//   first block with a 1×1/2 conv + bn "downsample" shortcut) → avgpool →
//   flatten → fc. 11,689,512 parameters with the 1000-class head.
//
// The model owns its memory: one arena for the backbone (modules, 62
// parameters, 40 running-stat buffers), one for the head (replaced by
// gb_resnet18_replace_fc) and one for the parameters' .grad.
#ifndef GB_RESNET18_H
#define GB_RESNET18_H

#include "gb_module.h"
#include "gb_rng.h"

typedef struct gb_model {
    gb_module *root;          // the ResNet module; root->children[9] is fc
    gb_arena arena;           // backbone: modules, parameters, buffers, names
    gb_arena head_arena;      // the current fc
    gb_arena grad_arena;      // parameters' .grad (see gb_model_backward)
} gb_model;

// resnet18(num_classes): parameters as after construction with zero draws:
// conv and fc weights 0, BatchNorm γ = 1, β = 0, running mean 0, var 1.
// Call gb_resnet18_init for torchvision's random init, or load a state dict.
gb_status gb_resnet18_new(gb_model *m, int num_classes);
void gb_resnet18_free(gb_model *m);

// torch.manual_seed(seed); model = resnet18(num_classes): every draw torch
// makes, in its order: each Conv2d's and the fc's reset_parameters
// (kaiming_uniform_(a=√5), fc bias uniform), then torchvision's loop over
// modules(): kaiming_normal_(mode="fan_out", relu) for convs, BatchNorm
// γ = 1, β = 0. The uniform draws (fc) are bit-exact; conv weights agree to a
// few ulps (normal_, see gb_rng.h). `gen` may be NULL to seed with `seed`.
gb_status gb_resnet18_init(gb_model *m, gb_generator *gen, uint64_t seed);

// torch.manual_seed(seed); model.fc = nn.Linear(512, num_classes): a fresh
// head, bit-exact with PyTorch (kaiming_uniform_(weight, a=√5), then bias
// uniform(±1/√512)), requiring grad, training=True as a new nn.Linear. `gen` may
// be NULL to seed with `seed`; otherwise it continues `gen`'s stream.
// NOTE: the old fc's tensors are gone: reset graphs and rebuild optimizers
// that refer to them (as in torch, where the old optimizer keeps the old head).
gb_status gb_resnet18_replace_fc(gb_model *m, int num_classes, gb_generator *gen, uint64_t seed);
// Linear.reset_parameters() with `gen`.
void gb_linear_reset_parameters(gb_module *linear, gb_generator *gen);
// Conv2d.reset_parameters() with `gen` (no bias in ResNet).
void gb_conv2d_reset_parameters(gb_module *conv, gb_generator *gen);

// logits = model(x), x (N, 3, H, W), logits (N, num_classes). BatchNorm uses
// batch statistics and updates its running stats in training mode, the
// running stats in eval mode. Everything is recorded on `g`.
gb_status gb_resnet18_forward(gb_model *m, gb_graph *g, gb_tensor *x, gb_tensor **logits);
// feats = torch.flatten(model.avgpool(...model.conv1(x)...), 1), (N, 512):
// the forward without fc, by the same code, so fc(feats) is forward's logits
// bit for bit.
gb_status gb_resnet18_features(gb_model *m, gb_graph *g, gb_tensor *x, gb_tensor **feats);
// Where no gradient goes through, the forward runs conv + BatchNorm (eval) +
// ReLU and the residual sum + ReLU as one pass each (forward.c), the same
// bits as op by op. 0 turns that off, for the tests that check those bits
// (tests/native/test_nn_forward.c).
extern int gb_resnet18_fuse;

// loss.backward() into the parameters' .grad. Allocates .grad from the
// model's grad arena, which is recycled when no parameter holds a .grad
// (after gb_model_zero_grad(m, 1)), so a training loop never grows it.
gb_status gb_model_backward(gb_model *m, gb_graph *g, gb_tensor *loss);
// model.zero_grad(set_to_none): .grad = None for all, or filled with zeros.
void gb_model_zero_grad(gb_model *m, int set_to_none);

#endif
