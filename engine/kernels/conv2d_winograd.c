// conv2d_winograd.c: 3x3 stride-1 convolution by Winograd F(2x2, 3x3) or F(4x4, 3x3).
//
// A 2x2 block of outputs needs a 4x4 patch d of each input channel. With
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   A^T = [1 1 1 0; 0 1 -1 -1]
// the block is  Y = A^T [ sum_c (G g_c G^T) .* (B^T d_c B) ] A,
// an elementwise product in the 4x4 "Winograd domain" summed over channels:
// 16 multiplies per channel for 4 outputs instead of 36 (2.25x fewer).
// Summed over channels, position xi of the 4x4 domain is one GEMM:
//   M[xi] (OC x T) = U[xi] (OC x C) . V[xi] (C x T),   T = number of 2x2 tiles,
// so the 16 GEMMs run through the same packed-B driver (gemm.c) and V is
// written straight into packed panels. U depends on the weights only:
// callers that keep weights fixed (a frozen backbone) transform them once.
// NOTE: results differ from im2col's by rounding (the transforms add and
// halve); the error stays at float precision for F(2x2, 3x3) (tests check
// 1e-5-level agreement with direct convolution in double).
//
// The caller picks the tile. 4 means F(4x4, 3x3): a 4x4 block of outputs
// from a 6x6 patch, with
//   B^T = [4  0 -5  0  1  0;       G = [ 1/4     0     0;
//          0 -4 -4  1  1  0;             -1/6  -1/6  -1/6;
//          0  4 -4 -1  1  0;             -1/6   1/6  -1/6;
//          0 -2 -1  2  1  0;             1/24  1/12   1/6;
//          0  2 -1 -2  1  0;             1/24 -1/12   1/6;
//          0  4  0 -5  0  1]                0     0     1]
//   A^T = [1 1  1 1  1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// (Lavin & Gray 2015): 36 multiplies per channel for 16 outputs, 4x fewer
// than direct and 1.78x fewer than F(2x2), in 36 GEMMs; V and M shrink from
// 4 to 2.25 floats per output. It pays once there are 8 or more of its
// tiles (gb_conv2d_winograd_tile): outputs of 12 x 12 at batch 1, layer4's
// 7 x 7 (4 tiles of 4 x 4 cover 8 x 8) from batch 2. F(4x4)'s time over
// F(2x2)'s, forward and dx, alternated calls, 1 thread (the tile table of
// `make -C tests/kernels bench`):
//   layer4 7x7, 512 ch:  batch 1: 1.32; batch 2: 0.68-0.74; batch 16: 0.60
//   layer3 14x14, 256:   batch 1: 0.68-0.70;               batch 16: 0.67
//   layer2 28x28, 128:   batch 1: 0.72;                    batch 16: 0.61
// (at batch 1, layer4's U, 2.25x larger, is streamed for 4 tiles). dw sums
// over the tiles instead (its GEMMs are C x C x tiles) and writes 36 planes
// of C x C to transform: F(4x4) pays from 48 of its tiles
// (gb_conv2d_winograd_dw_tile): layer4 at batch 16 0.83 (batch 8 1.07,
// batch 1 2.79), layer3 at batch 4 0.94 (batch 2 1.20), layer2 at batch 1
// 0.84. Its larger constants (A^T's 8) cost precision: errors against
// double are 5-30x F(2x2)'s (tests/kernels prints them with GB_SHOW_ERR=1),
// which is why the ResNet ops keep F(2x2) for the forward in train mode and
// whenever backward passes through a ReLU (engine/layers/conv2d.c).
#include "conv2d.h"

#include "gemm.h"
#include "f32-gemm/gb_f32_simd.h"
#include "../core/gb_status.h"
#include "../threads/gb_pool.h"

#include <string.h>

// Distance between the 16 members of V and of M. NOTE: the transforms touch
// all 16 at once; with a distance that is a multiple of 4 KiB (e.g. 64 x 784
// floats) the 16 streams fall into one L1 set and evict each other (4K
// aliasing): measured 2-3x slower transforms. A whole number of 4 KiB pages
// plus one cache line puts each stream in its own set.
static size_t member_stride(size_t n) { return ((n + 1023) & ~(size_t)1023) + 16; }

int gb_conv2d_winograd_ok(const gb_conv2d_shape *s) {
    return s->KH == 3 && s->KW == 3 && s->stride == 1;
}

// F(4x4)'s tiles over the batch.
static long tiles4(const gb_conv2d_shape *s) {
    return (long)s->N * ((s->OH + 3) / 4) * ((s->OW + 3) / 4);
}

// The faster output tile for the forward and dx: 4 (F(4x4, 3x3)) from 8 of
// its tiles (12 x 12 outputs at batch 1), else 2. See the top of the file.
int gb_conv2d_winograd_tile(const gb_conv2d_shape *s) {
    return tiles4(s) >= 8 ? 4 : 2;
}

// The same for dw, whose GEMMs sum over the tiles: 4 from 48 of them.
int gb_conv2d_winograd_dw_tile(const gb_conv2d_shape *s) {
    return tiles4(s) >= 48 ? 4 : 2;
}

static int checked_tile(int tile) {
    GB_ASSERT(tile == 2 || tile == 4, "winograd tile %d: 2 or 4", tile);
    return tile;
}

// Members of the Winograd domain: (m + 2)^2 = 16 or 36.
static int members(int m) { return (m + 2) * (m + 2); }

// U is kept packed for the ppmm microkernels (gemm.h): 16 (36) packed
// planes of OC x C (forward) or C x OC (dx), member_stride apart like V's: the
// weights' transform writes all members at once, and with 256 channels a
// packed plane is 65 x 4 KiB.
static size_t u_plane(int rows, int cols) { return member_stride(gb_f32_packed_a_floats(rows, cols)); }

size_t gb_conv2d_winograd_weights_floats(const gb_conv2d_shape *s, int tile) {
    const size_t fwd = u_plane(s->OC, s->C), dx = u_plane(s->C, s->OC);
    return members(checked_tile(tile)) * (fwd > dx ? fwd : dx);
}

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
    gb_take_counter taken;   // chunks taken so far (gb_pool_take)
} wino_job;

// The rows x cols window of an H x W plane at (h0, w0), row-major into dst,
// zero where it lies outside the plane (the convolution's padding, or past
// the last row or column of dy). Row by row: the columns inside the plane,
// [qa, qb), are copied 4 at a time, the rest zeroed.
// NOTE: no_builtin keeps clang from turning these short loops (4 to 20
// floats) into calls to memcpy and memset, which cost more than the copy (a
// profile of the input transform: a third of its time in memcpy). One
// conditional copy per float, which avoided those calls before, cost 2.8 ms
// of a 75 ms batch-1 forward.
#if defined(__clang__)
__attribute__((no_builtin("memcpy", "memset")))
#endif
static void read_window(const float *plane, int H, int W, int h0, int w0, int rows, int cols, float *dst) {
    for (int r = 0; r < rows; r++, dst += cols) {
        const int h = h0 + r;
        int qa = cols, qb = cols;   // a row outside the plane: all zero
        if (h >= 0 && h < H) {
            qa = w0 < 0 ? (-w0 < cols ? -w0 : cols) : 0;
            qb = W - w0 < cols ? W - w0 : cols;
            if (qb < qa) qb = qa;
        }
        int q = 0;
        for (; q < qa; q++) dst[q] = 0.0f;
        if (qb > qa) {
            const float *row = plane + (size_t)h * W;   // dst[q] = row[w0 + q] for q in [qa, qb)
            for (; q + 4 <= qb; q += 4) gb_v4f_store(dst + q, gb_v4f_load(row + w0 + q));
            for (; q < qb; q++) dst[q] = row[w0 + q];
        }
        for (; q < cols; q++) dst[q] = 0.0f;
    }
}

// A 4x4 transpose: out[q] lane i = in[i] lane q.
static inline void transpose4(const gb_v4f in[4], gb_v4f out[4]) {
    const gb_v4f t0 = __builtin_shufflevector(in[0], in[1], 0, 4, 1, 5);
    const gb_v4f t1 = __builtin_shufflevector(in[2], in[3], 0, 4, 1, 5);
    const gb_v4f t2 = __builtin_shufflevector(in[0], in[1], 2, 6, 3, 7);
    const gb_v4f t3 = __builtin_shufflevector(in[2], in[3], 2, 6, 3, 7);
    out[0] = __builtin_shufflevector(t0, t1, 0, 1, 4, 5);
    out[1] = __builtin_shufflevector(t0, t1, 2, 3, 6, 7);
    out[2] = __builtin_shufflevector(t2, t3, 0, 1, 4, 5);
    out[3] = __builtin_shufflevector(t2, t3, 2, 3, 6, 7);
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
            const gb_v4f v[4] = { gb_v4f_load(tmp[k] + xi * 4), gb_v4f_load(tmp[k + 1] + xi * 4),
                                  gb_v4f_load(tmp[k + 2] + xi * 4), gb_v4f_load(tmp[k + 3] + xi * 4) };
            gb_v4f tile[4];   // channels k.. of tile i
            transpose4(v, tile);
            for (int i = 0; i < n; i++) gb_v4f_store(row + i * channels + k, tile[i]);
        }
        if (channels % 4) {
            const float *t = tmp[channels - 1] + xi * 4;   // 5 channels: the fifth
            for (int i = 0; i < n; i++) row[i * channels + channels - 1] = t[i];
        }
    }
}

// The 1-D transforms of F(4x4, 3x3), used on columns and then on rows; as
// macros, so the scalar and the vector paths evaluate the same expressions
// (same bits). In: 6 values. B^T d:
#define WINO4_BT(d, o) do {                                                   \
        o[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];                              \
        o[1] = (d[3] + d[4]) - 4.0f * (d[1] + d[2]);                          \
        o[2] = (d[4] - d[3]) + 4.0f * (d[1] - d[2]);                          \
        o[3] = (d[4] - d[2]) + 2.0f * (d[3] - d[1]);                          \
        o[4] = (d[4] - d[2]) - 2.0f * (d[3] - d[1]);                          \
        o[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];                              \
    } while (0)
// A^T m: 6 values in, 4 out.
#define WINO4_AT(m, o) do {                                                   \
        const __typeof__(m[0]) p12 = m[1] + m[2], n12 = m[1] - m[2];          \
        const __typeof__(m[0]) p34 = m[3] + m[4], n34 = m[3] - m[4];          \
        o[0] = m[0] + p12 + p34;                                              \
        o[1] = n12 + 2.0f * n34;                                              \
        o[2] = p12 + 4.0f * p34;                                              \
        o[3] = n12 + 8.0f * n34 + m[5];                                       \
    } while (0)

// u = G g G^T for 3x3 kernels g: 4x4 (m = 2) or 6x6 (m = 4), row-major;
// four kernels at once, lane i = kernel i (each lane sees the operations a
// scalar version would do, divisions included: the same bits, and one vector
// division costs about what one scalar division does).
static void kernel_transform(int m, const gb_v4f g[9], gb_v4f *u) {
    if (m == 2) {
        gb_v4f a[4][3];
        for (int col = 0; col < 3; col++) {      // a = G g
            a[0][col] = g[col];
            a[1][col] = 0.5f * (g[col] + g[3 + col] + g[6 + col]);
            a[2][col] = 0.5f * (g[col] - g[3 + col] + g[6 + col]);
            a[3][col] = g[6 + col];
        }
        for (int r = 0; r < 4; r++) {            // u = a G^T
            u[r * 4 + 0] = a[r][0];
            u[r * 4 + 1] = 0.5f * (a[r][0] + a[r][1] + a[r][2]);
            u[r * 4 + 2] = 0.5f * (a[r][0] - a[r][1] + a[r][2]);
            u[r * 4 + 3] = a[r][2];
        }
        return;
    }
    // G's rows applied to a column (v0, v1, v2) of 3.
#define WINO4_G(v0, v1, v2, o, step) do {                                     \
        o[0 * step] = 0.25f * v0;                                             \
        o[1 * step] = -(v0 + v1 + v2) / 6.0f;                                 \
        o[2 * step] = -(v0 - v1 + v2) / 6.0f;                                 \
        o[3 * step] = v0 / 24.0f + v1 / 12.0f + v2 / 6.0f;                    \
        o[4 * step] = v0 / 24.0f - v1 / 12.0f + v2 / 6.0f;                    \
        o[5 * step] = v2;                                                     \
    } while (0)
    gb_v4f a[6][3];
    for (int col = 0; col < 3; col++) WINO4_G(g[col], g[3 + col], g[6 + col], (&a[0][col]), 3);   // a = G g
    for (int r = 0; r < 6; r++) WINO4_G(a[r][0], a[r][1], a[r][2], (u + r * 6), 1);             // u = a G^T
#undef WINO4_G
}

// U[xi][oc][c] = (G g G^T)[xi], written straight into packed
// ppmm tiles: element (o, c) of a plane at ((o/5)·cols + c)·5 + o%5, rows
// past the last padded with zeros. With `flip`, g is w[c][oc] turned by 180
// degrees and U is indexed [xi][c][oc] (backward, below).
// Split over 5-row tiles; columns c go 4 at a time (lanes). The 5 rows x 4
// columns of one plane are 20 consecutive floats (column by column), so
// each plane's block is stored as 4 vectors (a 4x4 transpose of rows 0-3)
// and 4 floats of row 4, instead of 20 single floats.
static void weights_task(void *ctx, int ith, int nth) {
    wino_job *j = ctx;
    const gb_conv2d_shape *s = j->s;
    const int rows = j->flip ? s->C : s->OC, cols = j->flip ? s->OC : s->C, nm = members(j->m);
    const size_t plane = u_plane(rows, cols);
    static const float zeros[9];
    gb_v4f u[GB_PPMM_MR][36];   // u[row of the tile][xi], lane i = column c0 + i
    int t0, t1;
    while (gb_pool_take(&j->taken, (rows + GB_PPMM_MR - 1) / GB_PPMM_MR, ith, nth, &t0, &t1)) {
        for (int t = t0; t < t1; t++)
            for (int c0 = 0; c0 < cols; c0 += 4) {
                const int nc = cols - c0 < 4 ? cols - c0 : 4;
                for (int r = 0; r < GB_PPMM_MR; r++) {
                    const int o = t * GB_PPMM_MR + r;
                    if (o >= rows) {   // the last tile's padding rows
                        for (int xi = 0; xi < nm; xi++) u[r][xi] = gb_v4f_splat(0.0f);
                        continue;
                    }
                    const float *src[4];   // kernel (o, c0 + i), or zeros past the last column
                    for (int i = 0; i < 4; i++)
                        src[i] = i >= nc ? zeros
                               : j->flip ? j->in + ((size_t)(c0 + i) * s->C + o) * 9
                                         : j->in + ((size_t)o * s->C + c0 + i) * 9;
                    gb_v4f g[9];
                    for (int k = 0; k < 9; k++) {   // flip: g[kh][kw] = w[c][o][2-kh][2-kw]
                        const int e = j->flip ? 8 - k : k;
                        g[k] = (gb_v4f){ src[0][e], src[1][e], src[2][e], src[3][e] };
                    }
                    kernel_transform(j->m, g, u[r]);
                }
                float *dst = j->out + ((size_t)t * cols + c0) * GB_PPMM_MR;   // column c0's 5 rows
                for (int xi = 0; xi < nm; xi++, dst += plane) {
                    if (nc < 4) {
                        for (int i = 0; i < nc; i++)
                            for (int r = 0; r < GB_PPMM_MR; r++) dst[i * GB_PPMM_MR + r] = u[r][xi][i];
                        continue;
                    }
                    const gb_v4f rows03[4] = { u[0][xi], u[1][xi], u[2][xi], u[3][xi] };
                    gb_v4f col[4];   // col[i]: rows 0-3 of column c0 + i
                    transpose4(rows03, col);
                    for (int i = 0; i < 4; i++) {
                        gb_v4f_store(dst + i * GB_PPMM_MR, col[i]);
                        dst[i * GB_PPMM_MR + 4] = u[4][xi][i];
                    }
                }
            }
    }
}

void gb_conv2d_winograd_transform_weights(const gb_conv2d_shape *s, int tile, const float *w, float *u) {
    GB_ASSERT(gb_conv2d_winograd_ok(s), "winograd needs a 3x3 stride-1 conv");
    wino_job j = { .s = s, .in = w, .out = u, .m = checked_tile(tile) };
    gb_parallel_for(weights_task, &j);
}

// V[xi] = (B^T d B)[xi] for every tile and channel, into packed B panels
// (gemm.h: panel = 8 tiles, then C rows of 8), or, for dw, V^T into B
// panels of 8 channels (then the tiles). d is the tile's input window
// ((m+2)^2 floats from (m th - pad, m tw - pad), zero outside the image).
// Tiles go in aligned groups of 4 (a group never straddles a panel), lane i
// of a vector = tile i. When the 4 tiles sit in one tile row, their windows
// come straight from the input rows (at the border, from a copy of the patch
// with its zero padding) by shuffles; other groups (wrapping to the next
// tile row or image, or past the last tile: zero windows) gather tile by
// tile. Then the transform is 32 vector adds and 16 vector stores for 4
// tiles (F(2x2)).

// The transform of 4 tiles' 4x4 windows d (lane i = tile i), stored for the
// first n.
static inline void input_d_simd(gb_v4f d[4][4], float *dst, size_t stride) {
    gb_v4f b[4][4];
    for (int q = 0; q < 4; q++) {                // b = B^T d
        b[0][q] = d[0][q] - d[2][q];
        b[1][q] = d[1][q] + d[2][q];
        b[2][q] = d[2][q] - d[1][q];
        b[3][q] = d[1][q] - d[3][q];
    }
    for (int r = 0; r < 4; r++) {                // v = b B, scattered to the 16 V[xi]
        gb_v4f_store(dst + (r * 4 + 0) * stride, b[r][0] - b[r][2]);
        gb_v4f_store(dst + (r * 4 + 1) * stride, b[r][1] + b[r][2]);
        gb_v4f_store(dst + (r * 4 + 2) * stride, b[r][2] - b[r][1]);
        gb_v4f_store(dst + (r * 4 + 3) * stride, b[r][1] - b[r][3]);
    }
}

// 4 tiles of one tile row. patch: the group's 4 input rows of 12 floats,
// `ld` apart; tile i's column q is float 2i + q.
static inline void input_group_simd(const float *patch, size_t ld, float *dst, size_t stride) {
    gb_v4f d[4][4];
    for (int r = 0; r < 4; r++) {
        const float *row = patch + r * ld;
        const gb_v4f v0 = gb_v4f_load(row), v1 = gb_v4f_load(row + 4), v2 = gb_v4f_load(row + 8);
        const gb_v4f even = __builtin_shufflevector(v0, v1, 0, 2, 4, 6);
        const gb_v4f odd = __builtin_shufflevector(v0, v1, 1, 3, 5, 7);
        d[r][0] = even;
        d[r][1] = odd;
        d[r][2] = __builtin_shufflevector(even, v2, 1, 2, 3, 4);
        d[r][3] = __builtin_shufflevector(odd, v2, 1, 2, 3, 5);
    }
    input_d_simd(d, dst, stride);
}

// F(4x4, 3x3): V = B^T d B of 6x6 windows, the 1-D transform down each
// column, then along each row.
static inline void input_d4_simd(gb_v4f d[6][6], float *dst, size_t stride) {
    gb_v4f b[6][6];
    for (int q = 0; q < 6; q++) {                // b = B^T d
        const gb_v4f col[6] = { d[0][q], d[1][q], d[2][q], d[3][q], d[4][q], d[5][q] };
        gb_v4f o[6];
        WINO4_BT(col, o);
        for (int r = 0; r < 6; r++) b[r][q] = o[r];
    }
    for (int r = 0; r < 6; r++) {                // v = b B, scattered to the 36 V[xi]
        gb_v4f v[6];
        WINO4_BT(b[r], v);
        for (int k = 0; k < 6; k++) gb_v4f_store(dst + (r * 6 + k) * stride, v[k]);
    }
}

// 4 tiles of one tile row at once, lane i = tile i. patch: the group's 6
// input rows of 20 floats, `ld` apart; tile i's column q is float 4i + q,
// so a 4x4 transpose of the first 16 floats gives columns 0-3 and a shift
// in of floats 16 and 17 gives columns 4 and 5.
static inline void input_group4_simd(const float *patch, size_t ld, float *dst, size_t stride) {
    gb_v4f d[6][6];
    for (int r = 0; r < 6; r++) {
        const float *row = patch + r * ld;
        const gb_v4f v[4] = { gb_v4f_load(row), gb_v4f_load(row + 4), gb_v4f_load(row + 8), gb_v4f_load(row + 12) };
        const gb_v4f v4 = gb_v4f_load(row + 16);
        transpose4(v, d[r]);
        d[r][4] = __builtin_shufflevector(d[r][0], v4, 1, 2, 3, 4);
        d[r][5] = __builtin_shufflevector(d[r][1], v4, 1, 2, 3, 5);
    }
    input_d4_simd(d, dst, stride);
}

// Any 4 consecutive tiles t_all.. of channel c (a group that wraps to the
// next tile row or image, or ends the batch: n < 4 tiles), gathered window
// by window: w[i] is tile i's alpha x alpha window, and a 4x4 transpose of
// each 4 floats of the four windows makes 4 vectors of d. Then the same
// transform as above: the same bits as if each tile went alone.
static inline void input_gather_simd(const wino_job *j, int c, int t_all, int n, float *dst, size_t stride) {
    const gb_conv2d_shape *s = j->s;
    const int m = j->m, alpha = m + 2, T = j->TH * j->TW;
    float w[4][36] __attribute__((aligned(16)));
    for (int i = 0; i < 4; i++) {
        if (i >= n) { memset(w[i], 0, sizeof w[i]); continue; }
        const int ti = t_all + i, t = ti % T;
        const float *x = j->in + (size_t)(ti / T) * j->image + (size_t)c * s->H * s->W;
        read_window(x, s->H, s->W, (t / j->TW) * m - s->pad, (t % j->TW) * m - s->pad, alpha, alpha, w[i]);
    }
    gb_v4f d[36];
    for (int k = 0; k < alpha * alpha; k += 4) {
        const gb_v4f v[4] = { gb_v4f_load(w[0] + k), gb_v4f_load(w[1] + k), gb_v4f_load(w[2] + k),
                              gb_v4f_load(w[3] + k) };
        transpose4(v, d + k);
    }
    if (m == 2) input_d_simd((gb_v4f(*)[4])d, dst, stride);
    else input_d4_simd((gb_v4f(*)[6])d, dst, stride);
}

// The transform of the 4 tiles t_all.. (of T_all) of channel c, member xi
// at dst[xi * stride], tile i at dst[i]; tiles past T_all are zero.
static inline void input_group(const wino_job *j, int c, int t_all, int T_all, float *dst, size_t stride) {
    const gb_conv2d_shape *s = j->s;
    const int T = j->TH * j->TW;   // tile t of the batch: image t / T
    const int m = j->m, alpha = m + 2;
    const int span = 4 * m + 4;   // floats of input under a group of 4 tiles (12 or 20, loaded as vectors)
    const int t = t_all % T, th = t / j->TW, tw = t % j->TW;
    const int h0 = th * m - s->pad, w0 = tw * m - s->pad;
    if (t + 4 <= T && tw + 4 <= j->TW) {
        const float *x = j->in + (size_t)(t_all / T) * j->image + (size_t)c * s->H * s->W;
        float patch[6 * 20];
        const float *src = x + (size_t)h0 * s->W + w0;
        size_t ld = (size_t)s->W;
        if (!(h0 >= 0 && h0 + alpha <= s->H && w0 >= 0 && w0 + span <= s->W)) {
            // at the border: copy the patch with its zero padding first
            read_window(x, s->H, s->W, h0, w0, alpha, span, patch);
            src = patch;
            ld = (size_t)span;
        }
        if (m == 2) input_group_simd(src, ld, dst, stride);
        else input_group4_simd(src, ld, dst, stride);
    } else {
        input_gather_simd(j, c, t_all, T_all - t_all < 4 ? T_all - t_all : 4, dst, stride);
    }
}

// V for the tiles [t_blk, t_end) of channels [c0, c1), into B panels [tiles/8][C][8].
static void input_block(const wino_job *j, int t_blk, int t_end, int c0, int c1) {
    const gb_conv2d_shape *s = j->s;
    const int T_all = j->TH * j->TW * j->images, nm = members(j->m);
    for (int c = c0; c < c1; c++) {
        for (int t_all = t_blk; t_all < t_end; t_all += 4) {
            const size_t panel = (size_t)(t_all - j->t_first) / GB_GEMM_NR * s->C * GB_GEMM_NR;
            input_group(j, c, t_all, T_all, j->out + panel + (size_t)c * GB_GEMM_NR + t_all % GB_GEMM_NR, j->stride);
        }
        // lanes past the last group in the last panel: never stored, zero anyway
        if (t_end == T_all && T_all % GB_GEMM_NR && T_all % GB_GEMM_NR <= 4) {
            const size_t panel = (size_t)(T_all - j->t_first) / GB_GEMM_NR * s->C * GB_GEMM_NR;
            for (int xi = 0; xi < nm; xi++)
                gb_v4f_store(j->out + xi * j->stride + panel + (size_t)c * GB_GEMM_NR + 4, gb_v4f_splat(0.0f));
        }
    }
}

// dw's V^T for the tiles [t_blk, t_end), into B panels [C/8][tiles][8]: the
// GEMM sums over tiles, so a tile's 8 channels sit side by side. Each
// channel's transform runs as above (4 tiles in a vector) into `tmp`, and
// store_by_tile puts the channels side by side.
// Channels past C (the last panel's padding) are zero.
static void input_block_dw(const wino_job *j, int t_blk, int t_end) {
    const gb_conv2d_shape *s = j->s;
    const int T_all = j->TH * j->TW * j->images, nm = members(j->m);
    float tmp[GB_GEMM_NR][36 * 4] __attribute__((aligned(16)));   // [channel][xi][tile]
    for (int c0 = 0; c0 < s->C; c0 += GB_GEMM_NR)
        for (int t_all = t_blk; t_all < t_end; t_all += 4) {
            for (int k = 0; k < GB_GEMM_NR; k++) {
                if (c0 + k < s->C) input_group(j, c0 + k, t_all, T_all, tmp[k], 4);
                else memset(tmp[k], 0, sizeof tmp[k]);
            }
            const int n = t_end - t_all < 4 ? t_end - t_all : 4;
            float *dst = j->out + ((size_t)(c0 / GB_GEMM_NR) * T_all + t_all) * GB_GEMM_NR;
            store_by_tile((const float(*)[36 * 4])tmp, GB_GEMM_NR, nm, n, dst, j->stride);
        }
}

// Split over blocks of 8 tiles (one whole B panel), all channels inside a
// block: every stretch of V is written completely while it is in cache. (Done
// channel by channel over all the tiles, a cache line of V got its floats in
// visits far apart.) A block writes 16 streams, one per member; two panels
// per block (32 streams) measured slower in alternated runs. Threads take
// the blocks a few at a time (gb_pool_take): border blocks cost more.
// One image (batch 1: layer3 and layer4 have 2 blocks, layer2 7) is cut by
// channels too, INPUT_BLOCK_CHANNELS at a time, channels outermost: with 2
// blocks each thread got one, however much slower its core ran (on this VM
// one core at times streams at half the other's speed: bench/machine), and
// 7 split 4 to 3. Alternated in one process: 0.991 of the 2-thread forward at
// batch 1 (noise level; kept for the balance).
#define INPUT_BLOCK_TILES 8
#define INPUT_BLOCK_CHANNELS 16
static void input_task(void *ctx, int ith, int nth) {
    wino_job *j = ctx;
    const int T_all = j->TH * j->TW * j->images, C = j->s->C;
    const int blocks = (T_all + INPUT_BLOCK_TILES - 1) / INPUT_BLOCK_TILES;
    const int by_channels = j->images == 1 && !j->dw_layout;
    const int channel_parts = by_channels ? (C + INPUT_BLOCK_CHANNELS - 1) / INPUT_BLOCK_CHANNELS : 1;
    int i0, i1;
    while (gb_pool_take(&j->taken, blocks * channel_parts, ith, nth, &i0, &i1))
        for (int i = i0; i < i1; i++) {
            const int b = i % blocks, part = i / blocks;
            const int t_blk = b * INPUT_BLOCK_TILES;
            const int t_end = t_blk + INPUT_BLOCK_TILES < T_all ? t_blk + INPUT_BLOCK_TILES : T_all;
            if (j->dw_layout) { input_block_dw(j, t_blk, t_end); continue; }
            const int c0 = part * INPUT_BLOCK_CHANNELS, c1 = by_channels && c0 + INPUT_BLOCK_CHANNELS < C ? c0 + INPUT_BLOCK_CHANNELS : C;
            input_block(j, t_blk, t_end, c0, c1);
        }
}

// y block = A^T m A for every tile, split over output channels, 4 tiles
// at a time (lane i = tile i: M holds the tiles as consecutive columns).
// Row r of the 4 blocks comes out as m vectors o[k] (column k of each tile),
// and each row is stored as soon as it is made (all rows at once would not
// fit in the registers). A group of 4 tiles in one tile row whose outputs lie
// inside y stores rows as whole vectors; any other group (at the image's
// right or bottom edge, across two tile rows or images, or the batch's last
// n < 4 tiles) tile by tile, clipped to y. The same arithmetic either way,
// so the same bits.
typedef struct out_tiles {
    int n, group;     // tiles; 1: one tile row, inside y
    float *y[4];      // the top-left output of each tile's block
    int rows[4], cols[4];   // each block's outputs inside y
} out_tiles;

static inline void output_row(const wino_job *j, const out_tiles *ot, int r, const gb_v4f *o) {
    const int m = j->m, ow = j->s->OW;
    if (ot->group) {   // the 4m outputs of this row are consecutive
        float *row = ot->y[0] + (size_t)r * ow;
        gb_v4f out[4];
        if (m == 2) {   // columns 2i and 2i + 1 of tile i, interleaved
            out[0] = __builtin_shufflevector(o[0], o[1], 0, 4, 1, 5);
            out[1] = __builtin_shufflevector(o[0], o[1], 2, 6, 3, 7);
        } else {        // out[i]: the 4 outputs of tile i in this row
            transpose4(o, out);
        }
        for (int i = 0; i < m; i++) {
            if (j->accumulate) out[i] = gb_v4f_load(row + 4 * i) + out[i];
            gb_v4f_store(row + 4 * i, out[i]);
        }
        return;
    }
    float b[4][4] __attribute__((aligned(16)));   // b[k][i]: column k of tile i
    for (int k = 0; k < m; k++) gb_v4f_store(b[k], o[k]);
    for (int i = 0; i < ot->n; i++) {
        if (r >= ot->rows[i]) continue;
        float *row = ot->y[i] + (size_t)r * ow;
        for (int k = 0; k < ot->cols[i]; k++) row[k] = j->accumulate ? row[k] + b[k][i] : b[k][i];
    }
}

// The 4 tiles whose M[0] is at mt (members plane floats apart).
static inline void output_tiles(const wino_job *j, const float *mt, size_t plane, const out_tiles *ot) {
    if (j->m == 2) {                               // F(2x2): y = A^T m A
        gb_v4f a[2][4];
        for (int q = 0; q < 4; q++) {              // a = A^T m
            const gb_v4f m0 = gb_v4f_load(mt + q * plane), m1 = gb_v4f_load(mt + (4 + q) * plane);
            const gb_v4f m2 = gb_v4f_load(mt + (8 + q) * plane), m3 = gb_v4f_load(mt + (12 + q) * plane);
            a[0][q] = m0 + m1 + m2;
            a[1][q] = m1 - m2 - m3;
        }
        for (int r = 0; r < 2; r++) {              // y = a A, row by row
            const gb_v4f zero = { 0.0f, 0.0f, 0.0f, 0.0f };   // o[2], o[3]: unread for F(2x2)
            const gb_v4f o[4] = { a[r][0] + a[r][1] + a[r][2], a[r][1] - a[r][2] - a[r][3], zero, zero };
            output_row(j, ot, r, o);
        }
        return;
    }
    gb_v4f a[4][6];                                // F(4x4): down each of the 6 columns,
    for (int q = 0; q < 6; q++) {
        gb_v4f col[6], o[4];
        for (int r = 0; r < 6; r++) col[r] = gb_v4f_load(mt + (r * 6 + q) * plane);
        WINO4_AT(col, o);
        for (int r = 0; r < 4; r++) a[r][q] = o[r];
    }
    for (int r = 0; r < 4; r++) {                  // then along each of the 4 rows
        gb_v4f o[4];
        WINO4_AT(a[r], o);
        output_row(j, ot, r, o);
    }
}

// y of output channels [o0, o1) for the tiles [t_lo, t_hi) (t_lo a multiple of 4).
static void output_range(const wino_job *j, int o0, int o1, int t_lo, int t_hi) {
    const gb_conv2d_shape *s = j->s;
    const int T = j->TH * j->TW, m = j->m, nm = members(m);
    const size_t plane = j->stride;
    for (int oc = o0; oc < o1; oc++) {
        const float *m_row = j->in + (size_t)oc * j->m_cols;   // M[0][oc][t - t_first]
        for (int t_all = t_lo; t_all < t_hi; t_all += 4) {
            const int t = t_all % T, th = t / j->TW, tw = t % j->TW;
            out_tiles ot = { .n = t_hi - t_all < 4 ? t_hi - t_all : 4 };
            ot.group = ot.n == 4 && t + 4 <= T && tw + 4 <= j->TW && m * th + m <= s->OH && m * tw + 4 * m <= s->OW;
            int img = t_all / T, ih = th, iw = tw;   // tile i's place, stepped from tile 0's
            for (int i = 0; i < ot.n; i++) {
                const int h = ih * m, w = iw * m;
                ot.y[i] = j->out + (size_t)img * j->image + (size_t)oc * s->OH * s->OW + (size_t)h * s->OW + w;
                ot.rows[i] = s->OH - h < m ? s->OH - h : m;
                ot.cols[i] = s->OW - w < m ? s->OW - w : m;
                if (++iw == j->TW) {
                    iw = 0;
                    if (++ih == j->TH) ih = 0, img++;
                }
            }
            const float *mt = m_row + (t_all - j->t_first);
            if (ot.n == 4) {
                output_tiles(j, mt, plane, &ot);
            } else {   // the last tiles: M's columns past t_hi are not this row's; zero lanes instead
                float mn[36 * 4] __attribute__((aligned(16)));
                for (int xi = 0; xi < nm; xi++)
                    for (int i = 0; i < 4; i++) mn[xi * 4 + i] = i < ot.n ? mt[xi * plane + i] : 0.0f;
                output_tiles(j, mn, 4, &ot);
            }
        }
    }
}

static void output_task(void *ctx, int ith, int nth) {
    wino_job *j = ctx;
    int o0, o1;
    while (gb_pool_take(&j->taken, j->s->OC, ith, nth, &o0, &o1)) output_range(j, o0, o1, 0, j->TH * j->TW * j->images);
}

// Small images (layer3: 49 tiles, layer4: 16) make thin GEMMs, so images go
// through in groups whose tiles, side by side, number about this many. Each
// output still sums over the same C in the same order: same bits as one by one.
#define WINO_GROUP_TILES 512
static int tiles_per_image(const gb_conv2d_shape *s, int m) {
    return ((s->OH + m - 1) / m) * ((s->OW + m - 1) / m);
}
static int images_per_group(const gb_conv2d_shape *s, int m) {
    const int T = tiles_per_image(s, m);
    const int g = (WINO_GROUP_TILES + T - 1) / T;
    return g < s->N ? g : s->N;
}

// Fused: when U is small enough to stay in L2 (ResNet's layer1: 64 x 64
// channels), each thread takes chunks of a few panels of tiles and runs the
// whole pipeline on them (input transform, the nm GEMMs on this thread,
// output transform) in its own part of the scratch, so V and M never leave
// its L2 (unfused, they are MBs that go out to L3 and back). A chunk's V and
// M take about FUSED_STAGE_BYTES. Every output sums the same products in the
// same order as unfused: same bits. A U up to 4x larger (layer2: 128 x 128)
// no longer stays in L2 and is read again for every chunk; that still paid
// with many chunks (a training batch: alternated in one wasm process, 0.85-0.97
// of the unfused time at batch 16) and lost with few (0.95-1.08 at batch 1,
// 49 tiles); layer3's U (4.3-9.6 MB) lost at batch 16 too.
#define FUSED_U_BYTES ((size_t)800 << 10)
#define FUSED_STAGE_BYTES ((size_t)256 << 10)
static size_t fused_u_bytes = FUSED_U_BYTES, fused_stage_bytes = FUSED_STAGE_BYTES;

void gb_conv2d_winograd_set_fusion(size_t max_u_bytes, size_t stage_bytes) {
    fused_u_bytes = max_u_bytes ? max_u_bytes : FUSED_U_BYTES;
    fused_stage_bytes = stage_bytes ? stage_bytes : FUSED_STAGE_BYTES;
}

// Tiles per fused chunk (whole B panels), or 0: not fused.
#define FUSED_MIN_CHUNKS_LARGE_U 32
static int fused_chunk(const gb_conv2d_shape *s, int m) {
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

static void fused_strides(const gb_conv2d_shape *s, int chunk, size_t *sv, size_t *sm) {
    *sv = member_stride(gb_f32_packed_b_floats(s->C, chunk));
    *sm = member_stride((size_t)s->OC * chunk);
}

// Scratch: V (nm packed C x G*T) | M (nm x OC x G*T), G images per group;
// fused, one V | M of a chunk per thread the pool can have (a size that does
// not change with the thread count: ~4 MB).
size_t gb_conv2d_winograd_scratch_bytes(const gb_conv2d_shape *s, int tile) {
    const int m = checked_tile(tile), chunk = fused_chunk(s, m);
    if (chunk) {
        size_t sv, sm;
        fused_strides(s, chunk, &sv, &sm);
        return sizeof(float) * members(m) * (sv + sm) * GB_POOL_MAX_THREADS;
    }
    const int T = tiles_per_image(s, m) * images_per_group(s, m);
    return sizeof(float) * members(m) * (member_stride(gb_f32_packed_b_floats(s->C, T)) + member_stride((size_t)s->OC * T));
}

typedef struct fused_job {
    const gb_conv2d_shape *s;
    int m, chunk, accumulate;
    const float *u, *x;
    float *y, *scratch;
    gb_take_counter taken;
} fused_job;

static void fused_task(void *ctx, int ith, int nth) {
    fused_job *f = ctx;
    const gb_conv2d_shape *s = f->s;
    const int m = f->m, nm = members(m), TH = (s->OH + m - 1) / m, TW = (s->OW + m - 1) / m;
    const int T_all = TH * TW * s->N;
    size_t sv, sm;
    fused_strides(s, f->chunk, &sv, &sm);
    float *v = f->scratch + (size_t)ith * nm * (sv + sm), *mm = v + nm * sv;
    const int chunks = (T_all + f->chunk - 1) / f->chunk;
    int c0, c1;
    while (gb_pool_take(&f->taken, chunks, ith, nth, &c0, &c1))
        for (int c = c0; c < c1; c++) {
            const int t_lo = c * f->chunk, t_hi = t_lo + f->chunk < T_all ? t_lo + f->chunk : T_all, n = t_hi - t_lo;
            const wino_job in = { .s = s, .in = f->x, .out = v, .TH = TH, .TW = TW, .stride = sv, .images = s->N,
                                  .image = (size_t)s->C * s->H * s->W, .m = m, .t_first = t_lo };
            for (int t = t_lo; t < t_hi; t += INPUT_BLOCK_TILES)
                input_block(&in, t, t + INPUT_BLOCK_TILES < t_hi ? t + INPUT_BLOCK_TILES : t_hi, 0, s->C);
            // Nested in this parallel_for, the GEMM runs on this thread.
            gb_f32_gemm_ppacked_batched(nm, s->OC, n, s->C, f->u, u_plane(s->OC, s->C), v, sv, mm, n, sm, 0);
            const wino_job out = { .s = s, .in = mm, .out = f->y, .TH = TH, .TW = TW, .stride = sm,
                                   .accumulate = f->accumulate, .images = s->N, .image = (size_t)s->OC * s->OH * s->OW,
                                   .m = m, .t_first = t_lo, .m_cols = n };
            output_range(&out, 0, s->OC, t_lo, t_hi);
        }
}

static void winograd_run(const gb_conv2d_shape *s, int tile, const float *u, const float *x, float *y,
                         void *scratch, int accumulate) {
    GB_ASSERT(gb_conv2d_winograd_ok(s), "winograd needs a 3x3 stride-1 conv");
    const int m = checked_tile(tile), nm = members(m), chunk = fused_chunk(s, m);
    if (chunk) {
        fused_job f = { .s = s, .m = m, .chunk = chunk, .accumulate = accumulate, .u = u, .x = x, .y = y,
                        .scratch = scratch };
        gb_parallel_for(fused_task, &f);
        return;
    }
    const int TH = (s->OH + m - 1) / m, TW = (s->OW + m - 1) / m, G = images_per_group(s, m);
    const size_t T_max = (size_t)TH * TW * G;
    const size_t sv = member_stride(gb_f32_packed_b_floats(s->C, (int)T_max)), sm = member_stride((size_t)s->OC * T_max);
    const size_t x_image = (size_t)s->C * s->H * s->W, y_image = (size_t)s->OC * s->OH * s->OW;
    float *v = scratch, *mm = v + nm * sv;
    for (int n = 0; n < s->N; n += G) {
        const int images = s->N - n < G ? s->N - n : G, T = TH * TW * images;
        wino_job in = { .s = s, .in = x + (size_t)n * x_image, .out = v, .TH = TH, .TW = TW, .stride = sv,
                        .images = images, .image = x_image, .m = m };
        gb_parallel_for(input_task, &in);
        gb_f32_gemm_ppacked_batched(nm, s->OC, T, s->C, u, u_plane(s->OC, s->C), v, sv, mm, T, sm, 0);
        wino_job out = { .s = s, .in = mm, .out = y + (size_t)n * y_image, .TH = TH, .TW = TW, .stride = sm,
                         .accumulate = accumulate, .images = images, .image = y_image, .m = m, .m_cols = T };
        gb_parallel_for(output_task, &out);
    }
}

void gb_conv2d_winograd_forward(const gb_conv2d_shape *s, int tile, const float *u, const float *x, float *y,
                                void *scratch) {
    winograd_run(s, tile, u, x, y, scratch, 0);
}

// --- backward for the input --------------------------------------------------
// dx[c,h,v] = sum_{o,kh,kw} w[o,c,kh,kw] dy[o, h+p-kh, v+p-kw] is itself a 3x3
// stride-1 correlation: of dy (OC channels) with w turned by 180 degrees and
// transposed (C outputs), padded by 2-p. Same machinery, shape swapped.
static gb_conv2d_shape dx_shape(const gb_conv2d_shape *s) {
    GB_ASSERT(gb_conv2d_winograd_ok(s) && s->pad <= 2, "winograd dx needs 3x3 stride 1 pad <= 2");
    return gb_conv2d_shape_make(s->N, s->OC, s->OH, s->OW, s->C, 3, 3, 1, 2 - s->pad);
}

void gb_conv2d_winograd_transform_weights_dx(const gb_conv2d_shape *s, int tile, const float *w, float *u) {
    (void)dx_shape(s);
    wino_job j = { .s = s, .in = w, .out = u, .flip = 1, .m = checked_tile(tile) };
    gb_parallel_for(weights_task, &j);
}

size_t gb_conv2d_winograd_backward_dx_scratch_bytes(const gb_conv2d_shape *s, int tile) {
    const gb_conv2d_shape t = dx_shape(s);
    return gb_conv2d_winograd_scratch_bytes(&t, tile);
}

void gb_conv2d_winograd_backward_dx(const gb_conv2d_shape *s, int tile, const float *u_dx, const float *dy,
                                    float *dx, int store, void *scratch) {
    const gb_conv2d_shape t = dx_shape(s);
    winograd_run(&t, tile, u_dx, dy, dx, scratch, !store);
}

// --- backward for the weights ------------------------------------------------
// Forward per tile: Y = A^T M A with M = sum_c U_c .* V_c, U = G g G^T. So
//   dM = A dY A^T          (4x4 from the tile's 2x2 of dy; F(4x4): 6x6 from 4x4)
//   dU[o][c] = sum over tiles of dM[o] .* V[c]
//   dg = G^T dU G          (3x3 from 4x4; F(4x4): from 6x6)
// and summed over tiles, each of the 16 (36) positions xi is one GEMM again:
//   dU[xi]^T (OC x C) = dM[xi] (OC x T) . V[xi]^T (T x C),
// with the tiles as the inner dimension: 16·C·OC·T multiplies for the
// 36·C·OC·T of the direct sum (9 per output pixel, 4 pixels per tile); with
// 4x4 tiles, 36·C·OC·T for 16 pixels per tile, 4x fewer than direct.
// In the GEMM, dM is A (packed tiles of 5 output channels, then the tiles)
// and V^T is B (panels of 8 input channels, then the tiles), so the result is
// dU^T[xi] (OC x C). Both transforms run 4 tiles per vector, as the forward's
// input transform does, and 4x4 transposes put each tile's channels side by
// side for the stores.

// F(4x4)'s A (6x4, the transpose of A^T) on 4 values: 6 out.
#define WINO4_A(y, o) do {                                                    \
        o[0] = y[0];                                                          \
        o[1] = y[0] + y[1] + y[2] + y[3];                                     \
        o[2] = y[0] - y[1] + y[2] - y[3];                                     \
        o[3] = y[0] + 2.0f * y[1] + 4.0f * y[2] + 8.0f * y[3];                \
        o[4] = y[0] - 2.0f * y[1] + 4.0f * y[2] - 8.0f * y[3];                \
        o[5] = y[3];                                                          \
    } while (0)

// dM = A dY A^T of the n (<= 4) tiles tw.. of tile row th of one output
// channel's dy plane, lane i = tile i, member xi at dst[xi * 4]. Lanes past n
// are zero, and so is dy past its last row or column.
static inline void dm_group(const wino_job *j, const float *dy, int th, int tw, int n, float *dst) {
    const gb_conv2d_shape *s = j->s;
    const int m = j->m, h = th * m, w = tw * m;
    gb_v4f y[4][4];   // y[r][q]: row r, column q of the tiles' m x m windows of dy
    if (n == 4 && h + m <= s->OH && w + 4 * m <= s->OW) {   // inside dy: straight from its rows
        for (int r = 0; r < m; r++) {
            const float *row = dy + (size_t)(h + r) * s->OW + w;
            if (m == 2) {   // tile i's columns are floats 2i and 2i + 1
                const gb_v4f v0 = gb_v4f_load(row), v1 = gb_v4f_load(row + 4);
                y[r][0] = __builtin_shufflevector(v0, v1, 0, 2, 4, 6);
                y[r][1] = __builtin_shufflevector(v0, v1, 1, 3, 5, 7);
            } else {        // tile i's columns are floats 4i to 4i + 3
                const gb_v4f v[4] = { gb_v4f_load(row), gb_v4f_load(row + 4), gb_v4f_load(row + 8),
                                      gb_v4f_load(row + 12) };
                transpose4(v, y[r]);
            }
        }
    } else {   // at the edge: window by window
        float win[4][16] __attribute__((aligned(16)));
        for (int i = 0; i < 4; i++) {
            if (i < n) read_window(dy, s->OH, s->OW, h, w + i * m, m, m, win[i]);
            else memset(win[i], 0, sizeof win[i]);
        }
        for (int k = 0; k < m * m; k += 4) {   // floats k..k+3 of every window
            const gb_v4f v[4] = { gb_v4f_load(win[0] + k), gb_v4f_load(win[1] + k), gb_v4f_load(win[2] + k),
                                  gb_v4f_load(win[3] + k) };
            gb_v4f e[4];
            transpose4(v, e);
            for (int q = 0; q < 4; q++) y[(k + q) / m][(k + q) % m] = e[q];
        }
    }
    if (m == 2) {
        gb_v4f a[4][2];
        for (int q = 0; q < 2; q++) {              // a = A dY
            a[0][q] = y[0][q];
            a[1][q] = y[0][q] + y[1][q];
            a[2][q] = y[0][q] - y[1][q];
            a[3][q] = -y[1][q];
        }
        for (int r = 0; r < 4; r++) {              // dM = a A^T
            gb_v4f_store(dst + (r * 4 + 0) * 4, a[r][0]);
            gb_v4f_store(dst + (r * 4 + 1) * 4, a[r][0] + a[r][1]);
            gb_v4f_store(dst + (r * 4 + 2) * 4, a[r][0] - a[r][1]);
            gb_v4f_store(dst + (r * 4 + 3) * 4, -a[r][1]);
        }
        return;
    }
    gb_v4f a[6][4];
    for (int q = 0; q < 4; q++) {                  // a = A dY, column by column
        const gb_v4f col[4] = { y[0][q], y[1][q], y[2][q], y[3][q] };
        gb_v4f o[6];
        WINO4_A(col, o);
        for (int r = 0; r < 6; r++) a[r][q] = o[r];
    }
    for (int r = 0; r < 6; r++) {                  // dM = a A^T, row by row
        gb_v4f o[6];
        WINO4_A(a[r], o);
        for (int k = 0; k < 6; k++) gb_v4f_store(dst + (r * 6 + k) * 4, o[k]);
    }
}

// dM[xi] of every tile, into packed A tiles [OC/5][tiles][5], split over the
// A tiles (5 output channels each). Channels past OC (the last tile's
// padding) are zero.
static void dm_task(void *ctx, int ith, int nth) {
    wino_job *j = ctx;
    const gb_conv2d_shape *s = j->s;
    const int T = j->TH * j->TW, T_all = T * j->images, nm = members(j->m);
    const int groups = (s->OC + GB_PPMM_MR - 1) / GB_PPMM_MR;
    float tmp[GB_PPMM_MR][36 * 4] __attribute__((aligned(16)));   // [channel][xi][tile]
    int g0, g1;
    while (gb_pool_take(&j->taken, groups, ith, nth, &g0, &g1))
        for (int g = g0; g < g1; g++) {
            const int o0 = g * GB_PPMM_MR;
            for (int img = 0; img < j->images; img++)
                for (int th = 0; th < j->TH; th++)
                    for (int tw = 0; tw < j->TW; tw += 4) {
                        const int n = j->TW - tw < 4 ? j->TW - tw : 4;
                        for (int k = 0; k < GB_PPMM_MR; k++) {
                            if (o0 + k >= s->OC) { memset(tmp[k], 0, sizeof tmp[k]); continue; }
                            const float *dy = j->in + (size_t)img * j->image + (size_t)(o0 + k) * s->OH * s->OW;
                            dm_group(j, dy, th, tw, n, tmp[k]);
                        }
                        const int t_all = img * T + th * j->TW + tw;
                        float *dst = j->out + ((size_t)g * T_all + t_all) * GB_PPMM_MR;
                        store_by_tile((const float(*)[36 * 4])tmp, GB_PPMM_MR, nm, n, dst, j->stride);
                    }
        }
}

// F(4x4)'s G^T (3x6) on 6 values: 3 out.
#define WINO4_GT(u, o) do {                                                   \
        o[0] = 0.25f * u[0] - (u[1] + u[2]) / 6.0f + (u[3] + u[4]) / 24.0f;   \
        o[1] = (u[2] - u[1]) / 6.0f + (u[3] - u[4]) / 12.0f;                  \
        o[2] = (u[3] + u[4]) / 6.0f - (u[1] + u[2]) / 6.0f + u[5];            \
    } while (0)

// dw[o][c] += G^T dU[o][c] G (without accumulate: =), split over output
// channels. dU^T[xi] is OC x C, so 4 consecutive c are 4 consecutive floats
// of each plane: the transform runs on 4 kernels at once, lane i = c + i
// (the operations a scalar version would do, divisions included: the same
// bits), and their 4 x 9 outputs are consecutive in dw.
static void dw_task(void *ctx, int ith, int nth) {
    wino_job *j = ctx;
    const gb_conv2d_shape *s = j->s;
    const int nm = members(j->m);
    int o0, o1;
    while (gb_pool_take(&j->taken, s->OC, ith, nth, &o0, &o1)) {
        for (int o = o0; o < o1; o++)
            for (int c = 0; c < s->C; c += 4) {
                const int nc = s->C - c < 4 ? s->C - c : 4;
                const float *du = j->in + (size_t)o * s->C + c;
                gb_v4f u[36], g[9];
                for (int xi = 0; xi < nm; xi++) {
                    if (nc == 4) { u[xi] = gb_v4f_load(du + xi * j->stride); continue; }
                    u[xi] = gb_v4f_splat(0.0f);
                    for (int i = 0; i < nc; i++) u[xi][i] = du[xi * j->stride + i];
                }
                if (j->m == 2) {
                    gb_v4f b[3][4];
                    for (int q = 0; q < 4; q++) {              // b = G^T dU
                        b[0][q] = u[q] + 0.5f * (u[4 + q] + u[8 + q]);
                        b[1][q] = 0.5f * (u[4 + q] - u[8 + q]);
                        b[2][q] = 0.5f * (u[4 + q] + u[8 + q]) + u[12 + q];
                    }
                    for (int r = 0; r < 3; r++) {              // dg = b G
                        g[r * 3 + 0] = b[r][0] + 0.5f * (b[r][1] + b[r][2]);
                        g[r * 3 + 1] = 0.5f * (b[r][1] - b[r][2]);
                        g[r * 3 + 2] = 0.5f * (b[r][1] + b[r][2]) + b[r][3];
                    }
                } else {
                    gb_v4f b[3][6];
                    for (int q = 0; q < 6; q++) {              // b = G^T dU, column by column
                        const gb_v4f col[6] = { u[q], u[6 + q], u[12 + q], u[18 + q], u[24 + q], u[30 + q] };
                        gb_v4f out[3];
                        WINO4_GT(col, out);
                        for (int r = 0; r < 3; r++) b[r][q] = out[r];
                    }
                    for (int r = 0; r < 3; r++) {              // dg = b G, row by row
                        gb_v4f out[3];
                        WINO4_GT(b[r], out);
                        for (int k = 0; k < 3; k++) g[r * 3 + k] = out[k];
                    }
                }
                float *dw = j->out + ((size_t)o * s->C + c) * 9;   // kernel c + i at dw + 9i
                for (int i = 0; i < nc; i++)
                    for (int k = 0; k < 9; k++) dw[i * 9 + k] = j->accumulate ? dw[i * 9 + k] + g[k][i] : g[k][i];
            }
    }
}

// Scratch: V^T (nm packed B planes, G*T x C) | dM (nm packed A planes, OC x G*T) | dU^T (nm x OC x C).
static void dw_strides(const gb_conv2d_shape *s, int m, size_t *sv, size_t *sd, size_t *su) {
    const int T = tiles_per_image(s, m) * images_per_group(s, m);
    *sv = member_stride(gb_f32_packed_b_floats(T, s->C));
    *sd = member_stride(gb_f32_packed_a_floats(s->OC, T));
    *su = member_stride((size_t)s->C * s->OC);
}

size_t gb_conv2d_winograd_backward_dw_scratch_bytes(const gb_conv2d_shape *s, int tile) {
    size_t sv, sd, su;
    dw_strides(s, checked_tile(tile), &sv, &sd, &su);
    return sizeof(float) * members(tile) * (sv + sd + su);
}

void gb_conv2d_winograd_backward_dw(const gb_conv2d_shape *s, int tile, const float *x, const float *dy, float *dw,
                                    int store, void *scratch) {
    GB_ASSERT(gb_conv2d_winograd_ok(s), "winograd needs a 3x3 stride-1 conv");
    const int m = checked_tile(tile), nm = members(m);
    const int TH = (s->OH + m - 1) / m, TW = (s->OW + m - 1) / m, G = images_per_group(s, m);
    size_t sv, sd, su;
    dw_strides(s, m, &sv, &sd, &su);
    const size_t x_image = (size_t)s->C * s->H * s->W, y_image = (size_t)s->OC * s->OH * s->OW;
    float *v = scratch, *dm = v + nm * sv, *du = dm + nm * sd;
    for (int n = 0; n < s->N; n += G) {   // dU sums the groups in order: the same for any thread count
        const int images = s->N - n < G ? s->N - n : G, T = TH * TW * images;
        wino_job in = { .s = s, .in = x + (size_t)n * x_image, .out = v, .TH = TH, .TW = TW, .stride = sv,
                        .images = images, .image = x_image, .dw_layout = 1, .m = m };
        gb_parallel_for(input_task, &in);
        wino_job mj = { .s = s, .in = dy + (size_t)n * y_image, .out = dm, .TH = TH, .TW = TW, .stride = sd,
                        .images = images, .image = y_image, .m = m };
        gb_parallel_for(dm_task, &mj);
        gb_f32_gemm_ppacked_batched(nm, s->OC, s->C, T, dm, sd, v, sv, du, s->C, su, n > 0);
    }
    wino_job out = { .s = s, .in = du, .out = dw, .TH = TH, .TW = TW, .stride = su, .accumulate = !store, .m = m };
    gb_parallel_for(dw_task, &out);
}
