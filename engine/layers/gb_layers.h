// gb_layers.h: the layers of a convolutional network as differentiable ops
// (ResNet-18's). Tensors are NCHW. Like every op, each constructor checks its
// arguments, computes the output now, and records a node when a gradient will
// be needed; the heavy loops are engine/kernels' (SIMD, threaded).
#ifndef GB_LAYERS_H
#define GB_LAYERS_H

#include "../ops/gb_ops.h"

// ConvolutionBackward0: y = conv2d(x, w), x (N,C,H,W), w (OC,C,KH,KW), no bias,
// groups 1; OH = (H + 2·padding − KH) / stride + 1.
gb_status gb_conv2d(gb_graph *g, gb_tensor *x, gb_tensor *w, int stride, int padding, gb_tensor **out);

// A layer's weights transformed for its kernel (Winograd's U for 3×3
// stride-1 layers, else w packed for im2col's GEMM), kept while the weights
// stay the same tensor at the same version (a frozen backbone: once per load;
// training: once per optimizer step). Owned by the layer. The forward uses
// w's transform; a Winograd backward's dx uses that of w turned by 180° and
// transposed (made on the first backward).
typedef struct gb_conv2d_transformed {
    float *u;                 // malloc'd once, gb_conv2d_cache_free gives it back
    size_t floats;
    const gb_tensor *w;       // the weights it was made from
    unsigned version;
    int layout;               // Winograd's tile (2 or 4), 0 for im2col's packing
} gb_conv2d_transformed;
typedef struct gb_conv2d_cache {
    gb_conv2d_transformed fwd, dx;
    int small_tiles;          // Winograd F(2×2) for the forward (the module sets it in train mode: conv2d.c says why)
} gb_conv2d_cache;
void gb_conv2d_cache_free(gb_conv2d_cache *cache);

// The same convolution; 3×3 stride-1 layers run Winograd's F(2×2, 3×3)
// or, on large images, F(4×4, 3×3) (2.25× or 4× fewer multiplies; the
// forward with cache->small_tiles keeps F(2×2)) with the cache's transformed
// weights, the others im2col with the cache's packed weights.
gb_status gb_conv2d_cached(gb_graph *g, gb_tensor *x, gb_tensor *w, int stride, int padding,
                           gb_conv2d_cache *cache, gb_tensor **out);

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
