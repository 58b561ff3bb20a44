// gb_finetune.h: what a fine-tuning loop needs of a ResNet-18 beyond its
// forward and backward: the head on cached features, the parameters an
// optimizer takes, the divergence guard's check, the optimizer's state as a
// state dict, and the DataLoader's shuffled order (randperm).
#ifndef GB_FINETUNE_H
#define GB_FINETUNE_H

#include <stdint.h>

#include "gb_optim.h"
#include "gb_resnet18.h"
#include "io/gb_state_dict.h"

// The fc module (root->children[9]).
gb_module *gb_resnet18_fc(gb_model *m);

// logits = model.fc(feats), feats (N, in_features) copied into `g`.
// Records a node when fc's parameters need a gradient (and g allows it).
gb_status gb_resnet18_head(gb_model *m, gb_graph *g, const float *feats, int N, gb_tensor **logits);

// One training step of fc on cached features: zero_grad(set_to_none);
// loss = cross_entropy(fc(feats), targets); backward; o's step. The caller
// has checked that only fc trains (gb_model_check_head_only). *loss: the loss.
gb_status gb_resnet18_head_step(gb_model *m, gb_graph *g, gb_optimizer *o, const float *feats, int N,
                                const int *targets, float *loss);

// filter(lambda p: p.requires_grad, model.parameters()): up to `cap` tensors
// into `out`, in named_parameters() order; returns how many there are.
int gb_model_trainable(gb_model *m, gb_tensor **out, int cap);

// GB_OK when exactly fc.weight and fc.bias require grad (a step on cached
// features is then the whole step); else GB_ERR_ARG saying what else does.
gb_status gb_model_check_head_only(gb_model *m);

// Every parameter that requires grad, and every BatchNorm running_mean and
// running_var, holds only finite values.
int gb_model_all_finite(gb_model *m);

// optimizer.state_dict()['state'] as named tensors, for each parameter in
// optimizer.state: "<param key>.momentum_buffer" (SGD with momentum),
// "<key>.exp_avg", "<key>.exp_avg_sq", "<key>.step" (Adam; step is 0-d).
// Appended to `out`.
gb_status gb_optim_state_save(const gb_optimizer *o, gb_state_dict *out);
// Puts such a state back: all or nothing. Refuses keys of no parameter in
// the optimizer, buffers of the other optimizer kind, wrong shapes, and
// incomplete Adam entries, with a message naming the key. Parameters that
// have no entry get no state (as before their first step).
gb_status gb_optim_state_load(gb_optimizer *o, const gb_state_dict *sd);

// torch.randperm(n, generator=gen) on the CPU (torch 1.13, n < 2^32/20):
// out = 0..n-1, then for i in 0..n-2 swap out[i] with out[i + random() % (n-i)].
void gb_randperm_cpu(gb_generator *gen, int n, int32_t *out);
// The order `for batch in DataLoader(ds, batch_size=B, shuffle=True,
// generator=torch.Generator().manual_seed(seed))` visits ds in epoch `epoch`
// (0-based, num_workers=0). Each epoch's iterator draws, from the generator:
// its _base_seed (one int64 random_(): two 32-bit draws), RandomSampler's
// randperm(n), and a second randperm(n) of which it yields nothing
// (`randperm(n)[:num_samples % n]` runs when the sampler is exhausted).
// The batch size plays no part.
void gb_dataloader_order(uint64_t seed, int n, int epoch, int32_t *out);

#endif
