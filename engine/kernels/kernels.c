// kernels.c: the kernel tables (see kernels.h for which build gets which).
#include "kernels.h"

#define GB_KERNEL_OPS                                                          \
    .conv2d_forward = gb_conv2d_forward, .conv2d_backward = gb_conv2d_backward, \
    .conv2d_winograd_transform_weights = gb_conv2d_winograd_transform_weights, \
    .conv2d_winograd_forward = gb_conv2d_winograd_forward,                     \
    .conv2d_winograd_transform_weights_dx = gb_conv2d_winograd_transform_weights_dx, \
    .conv2d_winograd_backward_dx = gb_conv2d_winograd_backward_dx,             \
    .maxpool2d_forward = gb_f32_maxpool2d_forward,                             \
    .maxpool2d_backward = gb_f32_maxpool2d_backward,                           \
    .global_avgpool_forward = gb_f32_global_avgpool_forward,                   \
    .global_avgpool_backward = gb_f32_global_avgpool_backward,                 \
    .batchnorm_forward_train = gb_f32_batchnorm_forward_train,                 \
    .batchnorm_forward_eval = gb_f32_batchnorm_forward_eval,                   \
    .batchnorm_backward = gb_f32_batchnorm_backward

static const gb_kernel_table scalar_table = {
    .isa = "scalar",
    // packed A here too: 5x8 ran at 4.2 GF/s in V8 against 3.4 for the strided 4x8
    .gemm = NULL, .gemm_ppmm = gb_f32_ppmm_5x8__scalar, .gemm_mr = 5, .gemm_name = "ppmm 5x8__scalar",
    .relu = gb_f32_relu__scalar, .relu_backward = gb_f32_relu_backward__scalar,
    GB_KERNEL_OPS,
};

#ifdef GB_KERNELS_SIMD
static const gb_kernel_table simd_table = {
    .isa = "wasmsimd",
    // 5x8 on packed A: in V8 it beats the strided 4x8 by ~1.25x (packed,
    // one pointer walks A, which frees the registers for a fifth row; 6x8's
    // 12 accumulators spill). The strided 4x8 stays for the no-pack paths.
    .gemm = NULL, .gemm_mr = 5, .gemm_name = "ppmm 5x8__wasmsimd",
    .gemm_ppmm = gb_f32_ppmm_5x8__wasmsimd,
    .relu = gb_f32_relu__wasmsimd, .relu_backward = gb_f32_relu_backward__wasmsimd,
    GB_KERNEL_OPS,
};
const gb_kernel_table *gb_kernels(void) { return &simd_table; }
#else
const gb_kernel_table *gb_kernels(void) { return &scalar_table; }
#endif

const gb_kernel_table *gb_kernels_scalar(void) { return &scalar_table; }
