// conv2d_plan.c: every decision about how a convolution runs (conv2d_plan.h
// lists them). Each function states its rule, the measurements behind it and
// the test that guards it; the kernels only compute.
#include "conv2d_plan.h"

#include "gemm.h"
#include "conv2d_winograd_internal.h"
#include "../threads/gb_pool.h"

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }   // floats, keeps 64-byte alignment
static size_t align64(size_t bytes) { return (bytes + 63) & ~(size_t)63; }

// --- Winograd's tiles ----------------------------------------------------------

// F(4x4)'s tiles over the batch.
static long tiles4(const gb_conv2d_shape *s) {
    return (long)s->N * ((s->OH + 3) / 4) * ((s->OW + 3) / 4);
}

// The forward's Winograd output tile: 4 (F(4×4, 3×3)) where it is faster,
// except when the output is gated. The model sets gated in train mode,
// because train-mode BatchNorm subtracts the batch mean and divides by the
// batch's standard deviation: in a channel that barely varies over a small
// batch, x − mean is mostly rounding, and F(4×4)'s (5-30× F(2×2)'s) then
// showed: a 14% error in a gradient of the PyTorch fixtures
// (grads_layer4_fc_train, batch 2, layer4.1.bn2 channel 13), where F(2×2)
// stays at 0.6% of the tolerance. The model sets it too whenever backward
// will pass through a ReLU (engine/nn/forward.c): backward reads the ReLUs'
// gates off the forward, and an activation within F(4×4)'s rounding of 0 can
// land on the other side of it; the gradients of everything before that ReLU
// then differ by that position's whole contribution (grads_layer4_fc_eval,
// with fixtures made on an AVX-512 machine: layer4.1.conv1.weight's gradient
// 3% of its largest value away from PyTorch's, where PyTorch's float32 is
// 1e-7 from its float64, and so is F(2×2)'s). Inference, and a frozen
// backbone under a trained fc, take the faster tile. Guarded by
// tests/native/test_nn_forward.c (the tile per forward) and
// tests/native/test_gradcheck.c (check_tile_switch).
// NOTE: the choice looks at one image, not at the batch (F(4×4) from 4 of its
// tiles, layer4's 7×7 at 224), so an image's outputs are the same bits in any
// batch: features cached image by image are those of a training batch
// (tests/resnet/finetune-engine.test.mjs, "features").
int gb_conv2d_plan_forward_tile(const gb_conv2d_shape *s, int gated) {
    if (gated) return 2;
    return ((long)(s->OH + 3) / 4) * ((s->OW + 3) / 4) >= 4 ? 4 : 2;
}

// dx's tile: 4 (F(4x4, 3x3)) from 8 of its tiles over the batch (12 x 12
// outputs at batch 1, layer4's 7 x 7 (4 tiles of 4 x 4 cover 8 x 8) from
// batch 2), else 2. F(4x4)'s time over F(2x2)'s, forward and dx, alternated
// calls, 1 thread (the tile table of `make -C tests/kernels bench`):
//   layer4 7x7, 512 ch:  batch 1: 1.32; batch 2: 0.68-0.74; batch 16: 0.60
//   layer3 14x14, 256:   batch 1: 0.68-0.70;               batch 16: 0.67
//   layer2 28x28, 128:   batch 1: 0.72;                    batch 16: 0.61
// (at batch 1, layer4's U, 2.25x larger, is streamed for 4 tiles).
// The faster tile even when gated: BatchNorm's backward scales a channel's dy
// by gamma/std as a whole, so dx's error stays relative to dy's size (no
// x − mean of near-equal values as in the forward). The full-network fixture
// (grads_all_train, against float64) is as close with F(4×4) dx as with
// F(2×2): at most 0.57 of its bound. tests/kernels/test_conv2d.c checks
// either tile against double.
int gb_conv2d_plan_dx_tile(const gb_conv2d_shape *s) {
    return tiles4(s) >= 8 ? 4 : 2;
}

// dw's tile. dw sums over the tiles instead (its GEMMs are C x C x tiles)
// and writes 36 planes of C x C to transform: F(4x4) pays from 48 of its
// tiles: layer4 at batch 16 0.83 (batch 8 1.07, batch 1 2.79), layer3 at
// batch 4 0.94 (batch 2 1.20), layer2 at batch 1 0.84. dw goes to the
// optimizer, not through BatchNorm, so gated does not matter (F(4×4)'s dw is
// within 1e-6 to 6e-6 of the largest |dw| from double, F(2×2)'s 2e-7 to
// 1.2e-6: GB_SHOW_ERR=1 in tests/kernels).
int gb_conv2d_plan_dw_tile(const gb_conv2d_shape *s) {
    return tiles4(s) >= 48 ? 4 : 2;
}

// --- kept or transient weights ---------------------------------------------------

// Kept or made per call. Weights that train change at every optimizer step,
// so a kept U would never be used twice. Frozen weights in a gated forward
// (a training step: train-mode BatchNorm, or a backward through the ReLUs)
// would keep an F(2x2) U that only such steps read: 72 MB for a frozen
// ResNet-18 backbone under a trained fc, where a step at batch 16 peaks at
// ~65 MB of activations. So a gated forward makes its U per call, in the
// scratch in front of the kernel's (the transform is read once per batch);
// only ungated (inference) forwards keep theirs, made once per load. The
// same for im2col's packed w (7 MB for ResNet-18, outside the step's arena
// and so at its peak; packing is a copy, ~0.1% of the conv's time):
// gated, it is packed per call into the scratch (GB_CONV2D_IM2COL).
// Guarded by tests/native/test_gradcheck.c ("no U should be kept", "no
// packed w should be kept") and the heap figures of bench/train-step.mjs.
int gb_conv2d_plan_transient(int gated) {
    return gated;
}

// --- fused or staged -----------------------------------------------------------

static int is_pointwise(const gb_conv2d_shape *s) {   // col == x
    return s->KH == 1 && s->KW == 1 && s->stride == 1 && s->pad == 0;
}

// im2col fused with its GEMM: each thread takes runs of panels (pixels x 8)
// and makes each into its own buffer (in L1) just before the GEMM reads it,
// for all OC rows, instead of writing the whole im2col out to memory and
// reading it back (conv1: 7.4 MB per image). Pays where the packed weights
// stay in L2 while the panels go past (conv1's are 37 KB; the 1x1 stride-2
// downsamples' up to 128 KB; layer2.0.conv1's, 3x3 stride 2, 295 KB), and
// where there are panels enough to share. The GEMM sums as
// gb_f32_gemm_ppacked does: the same bits either way (tests/kernels/
// test_conv2d.c, "forward from packed weights").
// NOTE: 160 -> 320 KB (layer2.0.conv1 fused), alternated in one process: 0.926
// of a training step (c) at batch 16, 0.936 of a batch-8 forward, 0.99 at
// batch 1; 1.5 MB (layer3.0.conv1's 1.18 MB too) gave 1.015 with 1 thread at
// batch 1, 1.000 for the step.
#define FUSED_IM2COL_A_BYTES ((size_t)320 << 10)
#define FUSED_IM2COL_MIN_PANELS 24

int gb_conv2d_plan_im2col_fused(const gb_conv2d_shape *s) {
    const int K = s->C * s->KH * s->KW, panels = (s->OH * s->OW + GB_GEMM_NR - 1) / GB_GEMM_NR;
    const size_t a_bytes = gb_conv2d_packed_weights_floats(s) * sizeof(float);
    const size_t panel_floats = round16((size_t)K * GB_GEMM_NR);   // a thread's; the scratch must hold them all
    return !is_pointwise(s) && panels >= FUSED_IM2COL_MIN_PANELS && a_bytes <= FUSED_IM2COL_A_BYTES &&
           panel_floats * GB_POOL_MAX_THREADS <= round16(gb_f32_packed_b_floats(K, s->OH * s->OW));
}

// Winograd fused: when U is small enough to stay in L2 (ResNet's layer1: 64
// x 64 channels), each thread takes chunks of a few panels of tiles and runs
// the whole pipeline on them (input transform, the nm GEMMs on this thread,
// output transform) in its own part of the scratch, so V and M never leave
// its L2 (unfused, they are MBs that go out to L3 and back). A chunk's V and
// M take about FUSED_STAGE_BYTES. Every output sums the same products in the
// same order as unfused: same bits (tests/kernels/test_conv2d.c,
// check_fusion). A U up to 4x larger (layer2: 128 x 128) no longer stays in
// L2 and is read again for every chunk; that still paid with many chunks (a
// training batch: alternated in one wasm process, 0.85-0.97 of the unfused
// time at batch 16) and lost with few (0.95-1.08 at batch 1, 49 tiles);
// layer3's U (4.3-9.6 MB) lost at batch 16 too.
#define FUSED_U_BYTES ((size_t)800 << 10)
#define FUSED_STAGE_BYTES ((size_t)256 << 10)
#define FUSED_MIN_CHUNKS_LARGE_U 32
static size_t fused_u_bytes = FUSED_U_BYTES, fused_stage_bytes = FUSED_STAGE_BYTES;

void gb_conv2d_plan_set_fusion(size_t max_u_bytes, size_t stage_bytes) {
    fused_u_bytes = max_u_bytes ? max_u_bytes : FUSED_U_BYTES;
    fused_stage_bytes = stage_bytes ? stage_bytes : FUSED_STAGE_BYTES;
}

int gb_conv2d_plan_winograd_chunk(const gb_conv2d_shape *s, int tile) {
    const int m = checked_tile(tile);
    const size_t u_bytes = members(m) * u_plane(s->OC, s->C) * sizeof(float);
    if (u_bytes > 4 * fused_u_bytes) return 0;
    const size_t per_tile = members(m) * (size_t)(s->C + s->OC) * sizeof(float);
    size_t tiles = fused_stage_bytes / per_tile / GB_GEMM_NR * GB_GEMM_NR;
    if (tiles < GB_GEMM_NR) tiles = GB_GEMM_NR;
    if (tiles > (1u << 20)) tiles = 1u << 20;
    const size_t all = (size_t)tiles_per_image(s, m) * s->N;
    if (u_bytes > fused_u_bytes && all < FUSED_MIN_CHUNKS_LARGE_U * tiles) return 0;
    return (int)tiles;
}

// --- the plan ------------------------------------------------------------------

// --- per-call transforms in chunks ------------------------------------------------

// A training step makes U per call (gb_conv2d_plan_transient), and dw always
// sums its dU^T per call: in the deep layers these are the step's largest
// work areas (layer4 at F(4x4): 36 x 512 x 512 floats, 38 MB each), and a
// backward's sits on top of every saved activation, at the step's peak. So
// a U (forward or dx) or dU^T over CHUNK_BYTES is made a chunk of output
// channels at a time, each chunk about CHUNK_BYTES, its rows a multiple of
// the GEMM's 5-row tile; M shrinks with it. Each output sums the same
// products in the same order: the same bits (tests/kernels/test_conv2d.c,
// "rows"). What it saves: bench/train-step.mjs, step (c)'s wasm heap.
// NOTE: with one image group (the deep layers at batch <= 128) nothing is
// transformed twice; the GEMMs get thinner (M from 512 to ~100 rows).
#define CHUNK_BYTES ((size_t)8 << 20)

int gb_conv2d_plan_chunk_rows(int rows, int cols, int tile) {
    const size_t bytes = (size_t)members(checked_tile(tile)) * rows * cols * sizeof(float);
    if (bytes <= CHUNK_BYTES) return 0;
    const int chunks = (int)((bytes + CHUNK_BYTES - 1) / CHUNK_BYTES), r = (rows + chunks - 1) / chunks;
    return (r + GB_PPMM_MR - 1) / GB_PPMM_MR * GB_PPMM_MR;
}

// --- the plan ------------------------------------------------------------------

// The scratch each run needs, from the decisions above: a transient U first
// (whole, or a chunk's inside the kernel's scratch), then the kernel's own;
// backward's parts run in turn and share theirs.
static void plan_sizes(gb_conv2d_plan *p) {
    const gb_conv2d_shape *s = &p->s;
    p->fwd_rows = p->dx_rows = p->dw_rows = 0;
    p->fwd_u_bytes = p->dx_u_bytes = 0;
    switch (p->fwd) {
    case GB_CONV2D_WINOGRAD:
        p->fwd_fused = gb_conv2d_plan_winograd_chunk(s, p->fwd_tile) != 0;
        if (p->transient && !p->fwd_fused) p->fwd_rows = gb_conv2d_plan_chunk_rows(s->OC, s->C, p->fwd_tile);
        if (p->transient && !p->fwd_rows)
            p->fwd_u_bytes = align64(gb_conv2d_winograd_weights_floats(s, p->fwd_tile) * sizeof(float));
        p->fwd_scratch_bytes = p->fwd_rows ? gb_conv2d_winograd_rows_scratch_bytes(s, p->fwd_tile, p->fwd_rows)
                                           : p->fwd_u_bytes + gb_conv2d_winograd_scratch_bytes(s, p->fwd_tile);
        break;
    case GB_CONV2D_IM2COL_PACKED:
        p->fwd_fused = gb_conv2d_plan_im2col_fused(s);
        p->fwd_scratch_bytes = gb_conv2d_forward_packed_scratch_bytes(s);
        break;
    default:
        p->fwd_fused = gb_conv2d_plan_im2col_fused(s);
        p->fwd_scratch_bytes = gb_conv2d_forward_scratch_bytes(s);
    }
    // Backward's parts run in turn and share one scratch: dx's transient U
    // lives only through dx, which runs first (conv2d_run.c), so the scratch
    // is the largest part's, not U on top of the largest.
    size_t bytes = 0, b;
    if (p->dx == GB_CONV2D_WINOGRAD) {
        if (p->transient) p->dx_rows = gb_conv2d_plan_chunk_rows(s->C, s->OC, p->dx_tile);
        if (p->transient && !p->dx_rows)
            p->dx_u_bytes = align64(gb_conv2d_winograd_weights_floats(s, p->dx_tile) * sizeof(float));
        b = p->dx_rows ? gb_conv2d_winograd_backward_dx_rows_scratch_bytes(s, p->dx_tile, p->dx_rows)
                       : p->dx_u_bytes + gb_conv2d_winograd_backward_dx_scratch_bytes(s, p->dx_tile);
        if (b > bytes) bytes = b;
    }
    if (p->dw == GB_CONV2D_WINOGRAD) {
        p->dw_rows = gb_conv2d_plan_chunk_rows(s->OC, s->C, p->dw_tile);
        b = gb_conv2d_winograd_backward_dw_scratch_bytes(s, p->dw_tile, p->dw_rows ? p->dw_rows : s->OC);
        if (b > bytes) bytes = b;
    }
    if ((p->dx == GB_CONV2D_IM2COL || p->dw == GB_CONV2D_IM2COL) && (b = gb_conv2d_backward_scratch_bytes(s)) > bytes)
        bytes = b;
    p->bwd_scratch_bytes = (p->need_dx || p->need_dw) ? bytes : 0;
}

// Which algorithm: with a weights object, 3x3 stride-1 layers run Winograd
// for y, dx and dw (dx is the same kind of convolution, of dy with the
// turned weights; dw comes from x and dy), the others im2col from the kept
// packed w (gated: packed per call). Without one, im2col everywhere, w packed per call. Only the
// gradients that are needed are computed: a frozen weight costs no dw, an
// input image no dx.
gb_conv2d_plan gb_conv2d_plan_make(const gb_conv2d_shape *s, int need_dx, int need_dw, int gated, int weights) {
    gb_conv2d_plan p = { .s = *s, .need_dx = need_dx, .need_dw = need_dw, .gated = gated, .weights = weights };
    const int wino = weights && gb_conv2d_winograd_ok(s);
    p.transient = weights && gb_conv2d_plan_transient(gated);
    p.fwd = wino ? GB_CONV2D_WINOGRAD : weights && !p.transient ? GB_CONV2D_IM2COL_PACKED : GB_CONV2D_IM2COL;
    p.dx = !need_dx ? GB_CONV2D_NONE : wino ? GB_CONV2D_WINOGRAD : GB_CONV2D_IM2COL;
    p.dw = !need_dw ? GB_CONV2D_NONE : wino ? GB_CONV2D_WINOGRAD : GB_CONV2D_IM2COL;
    p.fwd_tile = wino ? gb_conv2d_plan_forward_tile(s, gated) : 0;
    p.dx_tile = p.dx == GB_CONV2D_WINOGRAD ? gb_conv2d_plan_dx_tile(s) : 0;
    p.dw_tile = p.dw == GB_CONV2D_WINOGRAD ? gb_conv2d_plan_dw_tile(s) : 0;
    plan_sizes(&p);
    return p;
}

// Steps a part down to im2col (w packed per call): its weights could not be kept.
void gb_conv2d_plan_without_kept_forward(gb_conv2d_plan *p) {
    p->fwd = GB_CONV2D_IM2COL;
    p->fwd_tile = 0;
    plan_sizes(p);
}

void gb_conv2d_plan_without_kept_dx(gb_conv2d_plan *p) {
    p->dx = GB_CONV2D_IM2COL;
    p->dx_tile = 0;
    plan_sizes(p);
}
