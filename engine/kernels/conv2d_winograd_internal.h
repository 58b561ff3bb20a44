// conv2d_winograd_internal.h: what the Winograd stage files share (not an
// API: conv2d_winograd.h is). The job every stage's parallel_for takes, the
// layout of U, V and M (members member_stride apart, packed for the GEMM),
// the tile grouping, and the helpers more than one stage calls.
//
// The stages, one file each:
//   conv2d_winograd_weights.c   U = G g G^T (forward, and dx's turned weights)
//   conv2d_winograd_input.c     V = B^T d B, packed B panels (dw: V^T)
//   conv2d_winograd_output.c    y = A^T M A, stored or added into y
//   conv2d_winograd_forward.c   the forward and dx drivers: staged, or fused per thread
//   conv2d_winograd_dw.c        dw: dM = A dY A^T, the GEMMs over the tiles, G^T dU G
// The GEMM stage over the domain positions is gb_f32_gemm_ppacked_batched (gemm.c).
#ifndef GB_CONV2D_WINOGRAD_INTERNAL_H
#define GB_CONV2D_WINOGRAD_INTERNAL_H

#include "conv2d_winograd.h"

#include "gemm.h"
#include "gb_simd128.h"
#include "../core/gb_status.h"
#include "../threads/gb_pool.h"

#include <string.h>

// Distance between the 16 members of V and of M. NOTE: the transforms touch
// all 16 at once; with a distance that is a multiple of 4 KiB (e.g. 64 x 784
// floats) the 16 streams fall into one L1 set and evict each other (4K
// aliasing): measured 2-3x slower transforms. A whole number of 4 KiB pages
// plus one cache line puts each stream in its own set.
static inline size_t member_stride(size_t n) { return ((n + 1023) & ~(size_t)1023) + 16; }

static inline int checked_tile(int tile) {
    GB_ASSERT(tile == 2 || tile == 4, "winograd tile %d: 2 or 4", tile);
    return tile;
}

// Members of the Winograd domain: (m + 2)^2 = 16 or 36.
static inline int members(int m) { return (m + 2) * (m + 2); }

// U is kept packed for the ppmm microkernels (gemm.h): 16 (36) packed
// planes of OC x C (forward) or C x OC (dx), member_stride apart like V's: the
// weights' transform writes all members at once, and with 256 channels a
// packed plane is 65 x 4 KiB.
static inline size_t u_plane(int rows, int cols) { return member_stride(gb_f32_packed_a_floats(rows, cols)); }

typedef struct wino_job {
    const gb_conv2d_shape *s;
    const float *in;
    float *out;
    int TH, TW;
    size_t stride;         // floats between the 16 members: packed V[xi] (input), M[xi] (output)
    int flip;              // weights: transform w[oc][c] rotated 180 degrees into U[xi][c][oc]
    int accumulate;        // output: y += instead of y =
    int images;            // input/output: images side by side in the tile dimension
    size_t image;          // floats between two images of `in` (input) or `out` (output)
    int dw_layout;         // input: V^T as B panels [C/8][tiles][8] (dw) instead of [tiles/8][C][8]
    int m;                 // output tile: 2 (F(2x2, 3x3)) or 4 (F(4x4, 3x3))
    int t_first;           // B panels (V) and M start at this tile (a fused chunk's first), else 0
    int m_cols;            // output: the length of M's rows (the tiles it holds)
    const gb_conv2d_epilogue *epilogue;   // output: BatchNorm (+ ReLU) as y is stored (conv2d.h), or NULL
    int o_first, o_count;  // weights, output, dw: only output channels [o_first, o_first + o_count)
                           // (rows of U, M, dU^T), which hold only those rows; o_count 0: all
    gb_take_counter taken;   // chunks taken so far (gb_pool_take)
} wino_job;

// Small images (layer3: 49 tiles, layer4: 16) make thin GEMMs, so images go
// through in groups whose tiles, side by side, number about this many. Each
// output still sums over the same C in the same order: same bits as one by one.
#define WINO_GROUP_TILES 512
static inline int tiles_per_image(const gb_conv2d_shape *s, int m) {
    return ((s->OH + m - 1) / m) * ((s->OW + m - 1) / m);
}
static inline int images_per_group(const gb_conv2d_shape *s, int m) {
    const int T = tiles_per_image(s, m);
    const int g = (WINO_GROUP_TILES + T - 1) / T;
    return g < s->N ? g : s->N;
}

// dx[c,h,v] = sum_{o,kh,kw} w[o,c,kh,kw] dy[o, h+p-kh, v+p-kw] is itself a 3x3
// stride-1 correlation: of dy (OC channels) with w turned by 180 degrees and
// transposed (C outputs), padded by 2-p. Same machinery, shape swapped.
static inline gb_conv2d_shape dx_shape(const gb_conv2d_shape *s) {
    GB_ASSERT(gb_conv2d_winograd_ok(s) && s->pad <= 2, "winograd dx needs 3x3 stride 1 pad <= 2");
    return gb_conv2d_shape_make(s->N, s->OC, s->OH, s->OW, s->C, 3, 3, 1, 2 - s->pad);
}

// The epilogue of output channel o on 4 outputs (conv2d.h: the BatchNorm
// pass's mul and add, the ReLU's pmax).
static inline v128_t epilogue4(const gb_conv2d_epilogue *e, int o, v128_t v) {
    v = wasm_f32x4_add(wasm_f32x4_mul(v, wasm_f32x4_splat(e->scale[o])), wasm_f32x4_splat(e->shift[o]));
    return e->relu ? wasm_f32x4_pmax(v, wasm_f32x4_splat(0.0f)) : v;
}

// A 4x4 transpose: out[q] lane i = in[i] lane q.
static inline void transpose4(const v128_t in[4], v128_t out[4]) {
    const v128_t t0 = wasm_i32x4_shuffle(in[0], in[1], 0, 4, 1, 5);
    const v128_t t1 = wasm_i32x4_shuffle(in[2], in[3], 0, 4, 1, 5);
    const v128_t t2 = wasm_i32x4_shuffle(in[0], in[1], 2, 6, 3, 7);
    const v128_t t3 = wasm_i32x4_shuffle(in[2], in[3], 2, 6, 3, 7);
    out[0] = wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5);
    out[1] = wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7);
    out[2] = wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5);
    out[3] = wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7);
}

// The dw GEMM's operands hold each tile's channels side by side. From
// per-channel transforms of 4 tiles, tmp[k][xi * 4 + i] (channel k, member
// xi, tile i), member xi of tile i goes to dst + xi * stride + i * channels,
// its `channels` (8: V^T's B panels, 5: dM's A tiles) values in a row: 4
// channels at a time by a 4x4 transpose, a fifth one by one. The first n tiles.
static inline void store_by_tile(const float (*tmp)[36 * 4], int channels, int nm, int n, float *dst, size_t stride) {
    for (int xi = 0; xi < nm; xi++) {
        float *row = dst + xi * stride;
        for (int k = 0; k + 4 <= channels; k += 4) {
            const v128_t v[4] = { wasm_v128_load(tmp[k] + xi * 4), wasm_v128_load(tmp[k + 1] + xi * 4),
                                  wasm_v128_load(tmp[k + 2] + xi * 4), wasm_v128_load(tmp[k + 3] + xi * 4) };
            v128_t tile[4];   // channels k.. of tile i
            transpose4(v, tile);
            for (int i = 0; i < n; i++) wasm_v128_store(row + i * channels + k, tile[i]);
        }
        if (channels % 4) {
            const float *t = tmp[channels - 1] + xi * 4;   // 5 channels: the fifth
            for (int i = 0; i < n; i++) row[i * channels + channels - 1] = t[i];
        }
    }
}

// Tiles per block of the input transform (conv2d_winograd_input.c says why);
// the fused driver transforms its chunks block by block too.
#define INPUT_BLOCK_TILES 8

// The rows x cols window of an H x W plane at (h0, w0), row-major into dst,
// zero outside the plane (conv2d_winograd_input.c).
void gb_wino_read_window(const float *plane, int H, int W, int h0, int w0, int rows, int cols, float *dst);
// U of the output channels [o_first, o_first + o_count) of w (the conv of
// shape s; flip: dx's turned weights), packed as a U of o_count rows
// (conv2d_winograd_weights.c).
void gb_wino_transform_weights_rows(const gb_conv2d_shape *s, int m, int flip, const float *w, int o_first,
                                    int o_count, float *u);
// V of the tiles [t_blk, t_end) of channels [c0, c1) (conv2d_winograd_input.c).
void gb_wino_input_block(const wino_job *j, int t_blk, int t_end, int c0, int c1);
// V (or, with dw_layout, V^T) of every tile of j: a parallel_for task.
void gb_wino_input_task(void *ctx, int ith, int nth);
// y of output channels [o0, o1) for the tiles [t_lo, t_hi) (conv2d_winograd_output.c).
void gb_wino_output_range(const wino_job *j, int o0, int o1, int t_lo, int t_hi);
// y of every output channel and tile of j: a parallel_for task.
void gb_wino_output_task(void *ctx, int ith, int nth);

#endif
