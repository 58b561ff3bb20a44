// gb_layers.h: the layers of a convolutional network as differentiable ops
// (ResNet-18's). Tensors are NCHW. Like every op, each constructor checks its
// arguments, computes the output now, and records a node when a gradient will
// be needed; the heavy loops are engine/kernels' (SIMD, threaded).
#ifndef GB_LAYERS_H
#define GB_LAYERS_H

#include "../ops/gb_ops.h"
#include "../kernels/conv2d_plan.h"

// ConvolutionBackward0: y = conv2d(x, w), x (N,C,H,W), w (OC,C,KH,KW), no bias,
// groups 1; OH = (H + 2·padding − KH) / stride + 1.
gb_status gb_conv2d(gb_graph *g, gb_tensor *x, gb_tensor *w, int stride, int padding, gb_tensor **out);

// The same convolution for a layer that owns a weights object
// (engine/kernels/conv2d_plan.h: its transformed weights, kept while w
// stays the same tensor at the same version): 3×3 stride-1 layers run
// Winograd's F(2×2, 3×3) or F(4×4, 3×3), the others im2col from packed
// weights. gated: this output feeds a train-mode BatchNorm or a ReLU gate
// that backward reads, so the forward takes the exact tile
// (engine/kernels/conv2d_plan.c says why).
gb_status gb_conv2d_cached(gb_graph *g, gb_tensor *x, gb_tensor *w, int stride, int padding,
                           gb_conv2d_weights *weights, int gated, gb_tensor **out);

// BatchNorm2d's tensors and settings (the module owns them).
typedef struct gb_bn_params {
    gb_tensor *weight, *bias;               // γ, β (C): parameters
    gb_tensor *running_mean, *running_var;  // (C): buffers, updated in training
    int64_t num_batches_tracked;            // buffer, +1 per training forward
    float eps, momentum;                    // 1e-5, 0.1
} gb_bn_params;

// NativeBatchNormBackward0: y = γ (x − μ) / sqrt(σ² + eps) + β per channel.
// training: μ, σ² of the batch (biased σ² to normalise); the running stats
// move by momentum, running_var with the unbiased σ². eval: running stats.
gb_status gb_batchnorm2d(gb_graph *g, gb_tensor *x, gb_bn_params *bn, int training, gb_tensor **out);

// conv2d (gb_conv2d_cached), then BatchNorm2d in eval mode, then with relu a
// ReLU, in one pass: the BatchNorm's y = x * scale + shift and the ReLU run
// on each output as the conv stores it (engine/kernels/conv2d.h, the
// epilogue), the same bits as the three ops one after the other. Only where
// no gradient goes through (gb_conv2d_bn_eval_ok: inference, a frozen
// backbone in eval mode): nothing is recorded.
int gb_conv2d_bn_eval_ok(const gb_graph *g, const gb_tensor *x, const gb_tensor *w, const gb_bn_params *bn,
                         int bn_training);
gb_status gb_conv2d_bn_eval(gb_graph *g, gb_tensor *x, gb_tensor *w, int stride, int padding,
                            gb_conv2d_weights *weights, int gated, const gb_bn_params *bn, int relu,
                            gb_tensor **out);

// MaxPool2DWithIndicesBackward0: kernel k, stride, padding (−inf padding).
gb_status gb_maxpool2d(gb_graph *g, gb_tensor *x, int k, int stride, int padding, gb_tensor **out);

// MeanBackward1 (PyTorch's adaptive_avg_pool2d to 1×1 is a mean over H, W):
// (N,C,H,W) → (N,C,1,1).
gb_status gb_adaptive_avgpool1(gb_graph *g, gb_tensor *x, gb_tensor **out);

// ViewBackward0 / ReshapeAliasBackward0: (N,C,1,1) → (N,C) (torch.flatten(x, 1)).
gb_status gb_flatten(gb_graph *g, gb_tensor *x, gb_tensor **out);

// AddmmBackward0: y = x·wᵀ + b, x (N,in), w (out,in), b (out) or NULL.
gb_status gb_linear(gb_graph *g, gb_tensor *x, gb_tensor *w, gb_tensor *b, gb_tensor **out);

// NllLossBackward0 after LogSoftmaxBackward0, fused: the mean over the batch of
// −log softmax(logits)[n, target[n]]. logits (N,K), targets: N class indices.
gb_status gb_cross_entropy(gb_graph *g, gb_tensor *logits, const int *targets, gb_tensor **out);

#endif
